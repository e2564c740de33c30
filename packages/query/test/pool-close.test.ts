// Closing the query pool never ends a thread in the middle of a DuckDB call of its own (its memory
// sample): child processes whose threads sample every millisecond are closed and must exit 0.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CHILD = fileURLToPath(new URL('./support/close-while-sampling.mjs', import.meta.url));
/** Without the closing handshake about three closes in four aborted: six make a miss unlikely. */
const CLOSES = 6;

function closeInChild(): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CHILD], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code, signal) => resolve({ code, signal, output }));
  });
}

describe('QueryPool.close', () => {
  it('waits for the threads’ memory reads before it ends them', async () => {
    for (let close = 0; close < CLOSES; close++) {
      const ended = await closeInChild();
      expect(ended, ended.output).toEqual({ code: 0, signal: null, output: 'closed\n' });
    }
  }, 120_000);
});
