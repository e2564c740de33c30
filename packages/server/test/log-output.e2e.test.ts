// Proves the built logger's output choice and its writes at exit in real processes: a process
// that logs a burst and exits at once (as `arc serve` does after a fatal error) loses no line,
// the last one included, through a pipe; `auto` writes JSON into a pipe and coloured text onto
// a terminal (a pseudo-terminal made by util-linux's `script`).
import { spawn, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const LOG_MODULE = new URL('../dist/log.js', import.meta.url).href;
const BURST_LINES = 20_000;
const ANSI_ESCAPE = '\u001b[';
const HAS_SCRIPT = spawnSync('script', ['--version']).status === 0;

/** A program that logs `lines` lines of about 200 bytes, then the fatal reason, then exits 1 at once. */
function program(format: string, lines: number): string {
  return `
    const { createLogger } = await import(${JSON.stringify(LOG_MODULE)});
    const log = createLogger('info', ${JSON.stringify(format)});
    for (let index = 0; index < ${String(lines)}; index += 1) log.info('burst line ' + index, { request_id: 'r-' + index, padding: 'x'.repeat(120) });
    log.error('fatal: decoder 1 exited unexpectedly (code 1)');
    process.exit(1);
  `;
}

/** Runs `source` with stderr on a pipe that this process reads; resolves with the exit code and stderr. */
function runPiped(source: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', source], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stderr }));
  });
}

describe('log output of a process', () => {
  it('loses no line when the process exits right after its last line (pipe, JSON)', async () => {
    const { code, stderr } = await runPiped(program('auto', BURST_LINES));
    expect(code).toBe(1);
    const lines = stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(BURST_LINES + 1);
    expect(JSON.parse(lines[BURST_LINES - 1]!)).toMatchObject({ level: 'info', msg: `burst line ${String(BURST_LINES - 1)}` });
    expect(JSON.parse(lines[BURST_LINES]!)).toMatchObject({ level: 'error', msg: 'fatal: decoder 1 exited unexpectedly (code 1)' });
  }, 60_000);

  it('loses no line in text format either', async () => {
    const { code, stderr } = await runPiped(program('text', BURST_LINES));
    expect(code).toBe(1);
    const lines = stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(BURST_LINES + 1);
    expect(lines[BURST_LINES]).toMatch(/ ERROR: fatal: decoder 1 exited unexpectedly \(code 1\)$/);
    expect(stderr).not.toContain(ANSI_ESCAPE);
  }, 60_000);

  it.skipIf(!HAS_SCRIPT)('auto writes coloured text onto a terminal', () => {
    const command = `${process.execPath} --input-type=module -e ${shellQuote(program('auto', 3))}`;
    const run = spawnSync('script', ['-q', '-e', '-c', command, '/dev/null'], { encoding: 'utf8', timeout: 30_000 });
    expect(run.status).toBe(1);
    expect(run.stdout).toContain(ANSI_ESCAPE);
    expect(run.stdout).toMatch(/INFO.*burst line 2/);
    expect(run.stdout).toMatch(/ERROR.*fatal: decoder 1 exited unexpectedly/);
    expect(run.stdout).not.toContain('{"level"');
  });
});

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}
