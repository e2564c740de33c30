// Closing the query pool never ends a thread in the middle of a DuckDB call (its memory sample, a
// long query): child processes close pools at such moments and must exit 0.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SAMPLING_CHILD = fileURLToPath(new URL('./support/close-while-sampling.mjs', import.meta.url));
const QUERY_CHILD = fileURLToPath(new URL('./support/close-during-query.mjs', import.meta.url));
/** Without the closing handshake about three closes in four aborted: six make a miss unlikely. */
const CLOSES = 6;

function closeInChild(script: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code, signal) => resolve({ code, signal, output }));
  });
}

describe('QueryPool.close', () => {
  it('waits for the threads’ memory reads before it ends them', async () => {
    for (let close = 0; close < CLOSES; close++) {
      const ended = await closeInChild(SAMPLING_CHILD);
      expect(ended, ended.output).toEqual({ code: 0, signal: null, output: 'closed\n' });
    }
  }, 120_000);

  it('interrupts a running query, answered ARC_QUERY_POOL_CLOSED, instead of ending its thread inside DuckDB', async () => {
    const ended = await closeInChild(QUERY_CHILD);
    expect(ended, ended.output).toEqual({ code: 0, signal: null, output: 'ARC_QUERY_POOL_CLOSED\n' });
  }, 60_000);
});
