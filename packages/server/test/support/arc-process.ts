import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitUntil } from '../../../../test/support/poll-until.js';
import { s3ServerEnv, testS3 } from '../../../../test/support/s3-test-env.js';

/** The built CLI: integration tests run the real server, threads and all (`make test` builds first). */
const CLI_ENTRY = fileURLToPath(new URL('../../../cli/dist/main.js', import.meta.url));
const READY_TIMEOUT_MS = 60_000;
const POLL_MS = 50;

export const TEST_TOKEN = 'arc-test-admin-token-0123456789abcdef';

export interface ArcProcess {
  readonly url: string;
  readonly dataDir: string;
  readonly child: ChildProcess;
  /** Everything the process printed so far (stdout and stderr). */
  output(): string;
  /** SIGTERM; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL (a crash: no flush, no cleanup); resolves once the process is gone. */
  kill(): Promise<void>;
  /** Removes the data directory (after stop). */
  cleanup(): Promise<void>;
}

/**
 * With ARC_TEST_STORAGE=s3 (make test-s3) every server stores in the test bucket instead of its
 * data directory, under a prefix named after the data directory: a restart over the same data
 * directory finds the same objects, and tests never see each other's.
 */
export function storageEnv(directory: string): Record<string, string> {
  if (process.env.ARC_TEST_STORAGE !== 's3') return {};
  const s3 = testS3();
  if (s3 === null) throw new Error('ARC_TEST_STORAGE=s3 needs the test S3 server (scripts/s3-server.sh env)');
  return s3ServerEnv(s3, `${path.basename(directory)}/`);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts `arc serve` on a free port in a fresh data dir; resolves once `/ready` answers 200.
 * `onSpawn` gets the child at once (crash tests kill it before it is ready).
 */
export async function startArc(env: Record<string, string> = {}, dataDir?: string, onSpawn?: (child: ChildProcess) => void): Promise<ArcProcess> {
  const directory = dataDir ?? (await mkdtemp(path.join(tmpdir(), 'arc-it-')));
  const port = await freePort();
  const child = spawn(process.execPath, [CLI_ENTRY, 'serve'], {
    env: {
      PATH: process.env.PATH ?? '',
      ARC_HOST: '127.0.0.1',
      ARC_PORT: String(port),
      ARC_DATA_DIR: directory,
      ARC_AUTH_BOOTSTRAP_TOKEN: TEST_TOKEN,
      ARC_INGEST_DECODERS: '2',
      ARC_QUERY_THREADS: '1',
      ARC_QUERY_MEMORY_LIMIT: '512MB',
      // Off unless a test turns it on: the hourly tier's schedule (minute 5 of every hour) would
      // otherwise merge a test's files at a moment no test chose (compaction tests enable it).
      ARC_COMPACTION_ENABLED: 'false',
      ...storageEnv(directory),
      ...env,
    },
    // No arc.conf in the data dir: the server runs on defaults plus this environment.
    cwd: directory,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  onSpawn?.(child);
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  // A stop by a signal (a native crash, a kill) is told by name in the output: its code is null.
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code, signal) => {
      if (signal !== null) output += `\n[arc-process] arc ended by ${signal}\n`;
      resolve(code);
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  try {
    // Poll interval under READY_TIMEOUT_MS: /ready answering 200 is the only readiness signal.
    await waitUntil('arc answers /ready with 200', READY_TIMEOUT_MS, async () => {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`arc exited with ${String(child.exitCode ?? child.signalCode)} before ready`);
      return await fetch(`${url}/ready`).then((response) => response.status === 200, () => false);
    }, POLL_MS);
  } catch (error) {
    // Not ready (it exited, or the wait ran out): nothing will stop or remove it, so do it here.
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    if (dataDir === undefined) await rm(directory, { recursive: true, force: true });
    throw new Error(`${(error as Error).message}:\n${output}`, { cause: error });
  }
  return {
    url,
    dataDir: directory,
    child,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    cleanup: () => rm(directory, { recursive: true, force: true }),
  };
}
