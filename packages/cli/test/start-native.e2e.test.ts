// Proves that `./start.sh native` (what `make run` runs, here with --no-build: `make test` has built,
// and an install step killed by a test's timeout would leave node_modules half deleted) sizes the
// threads from the CPUs it finds and execs the server in its own process: the test starts it on a
// free port and a temporary data directory (ARC_PORT, ARC_DATA_DIR), waits for /ready, writes a row
// and reads it back over HTTP, then sends SIGTERM to the process it started and sees Arc stop
// cleanly (exit code 0).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { waitUntil } from '../../../test/support/poll-until.js';
import { freePort } from '../../server/test/support/arc-process.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const TOKEN = 'arc-start-sh-test-token-0123456789abcdef';
/** The server's start on a loaded 2-core machine (it takes 2-5 s alone). */
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 60_000;

const dataDir = mkdtempSync(join(tmpdir(), 'arc-start-sh-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

it('start.sh native serves, writes and reads a row, and stops cleanly on SIGTERM', { timeout: READY_TIMEOUT_MS + STOP_TIMEOUT_MS + 30_000 }, async () => {
  const port = await freePort();
  const url = `http://127.0.0.1:${String(port)}`;
  const child = spawn('bash', [join(ROOT, 'start.sh'), 'native', '--no-build'], {
    cwd: tmpdir(), // start.sh moves to the checkout itself
    env: { ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('ARC_'))), ARC_CONFIG: '', ARC_HOST: '127.0.0.1', ARC_PORT: String(port), ARC_DATA_DIR: dataDir, ARC_AUTH_BOOTSTRAP_TOKEN: TOKEN, ARC_COMPACTION_ENABLED: 'false' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    await waitUntil('start.sh native answers /ready with 200', READY_TIMEOUT_MS, async () => {
      if (child.exitCode !== null) throw new Error(`start.sh exited with ${String(child.exitCode)} before ready:\n${output}`);
      return fetch(`${url}/ready`).then((response) => response.status === 200, () => false);
    }, 100).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n${output}`, { cause: error });
    });

    // start.sh execs node: the process the test started is the server, so SIGTERM reaches Arc itself.
    expect(readFileSync(`/proc/${String(child.pid)}/cmdline`, 'utf8').split('\0')).toEqual(['node', 'packages/cli/dist/main.js', 'serve', '']);
    const cpus = Number(/start\.sh: (\d+) CPUs usable; sized: (.*)/.exec(output)?.[1]);
    expect(cpus).toBeGreaterThanOrEqual(1);
    expect(output).toContain(`decoders=${String(cpus * 3)}x`); // ARC_WORKERS from start.sh reached the server

    const auth = { authorization: `Bearer ${TOKEN}` };
    const write = await fetch(`${url}/write?db=startsh&precision=s`, { method: 'POST', headers: auth, body: 'cpu,host=pack usage=42.5 1760630400' });
    expect(write.status).toBe(204);
    expect((await fetch(`${url}/write/flush`, { method: 'POST', headers: auth })).status).toBe(200);
    const query = await fetch(`${url}/query`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json', 'x-arc-database': 'startsh' },
      body: JSON.stringify({ sql: 'SELECT host, usage FROM cpu', format: 'json' }),
    });
    expect(query.status).toBe(200);
    expect(await query.json()).toMatchObject({ columns: ['host', 'usage'], data: [['pack', 42.5]], row_count: 1 });

    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    // Waits for the exit event; the timer only bounds the wait, so a server that never stops fails.
    const code = await Promise.race([exited, new Promise<string>((resolve) => (timer = setTimeout(() => resolve('no exit'), STOP_TIMEOUT_MS)))]);
    clearTimeout(timer);
    expect(code, output).toBe(0);
    expect(output).toContain('SIGTERM received');
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
});
