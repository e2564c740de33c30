// Proves forEachChunk fetches the next chunk while the current one is visited, yet never fetches
// past the row limit and never returns while a fetch it started is still running (cancelled, or
// the visit threw), using a result whose fetches resolve when the test says so.
import { describe, expect, it } from 'vitest';
import type { DuckDBDataChunk, DuckDBResult } from '@duckdb/node-api';
import { forEachChunk } from '../src/result-chunks.js';

/** A streaming result of chunks of `sizes` rows; records fetches, visits and settled fetches in `events`. */
function fakeResult(sizes: readonly number[], events: string[]): DuckDBResult {
  let fetched = 0;
  const result = {
    fetchChunk: async (): Promise<DuckDBDataChunk | null> => {
      const index = fetched++;
      events.push(`fetch ${String(index)}`);
      // A fetch resolves on a later turn, as the bindings' do (a thread of the pool).
      await new Promise((resolve) => setImmediate(resolve));
      events.push(`fetched ${String(index)}`);
      const rowCount = sizes[index];
      return rowCount === undefined ? null : ({ rowCount } as unknown as DuckDBDataChunk);
    },
  };
  return result as unknown as DuckDBResult;
}

describe('forEachChunk', () => {
  it('starts fetching the next chunk before visiting the current one, and stops at the empty fetch', async () => {
    const events: string[] = [];
    const rows = await forEachChunk(fakeResult([3, 4], events), Infinity, () => false, (chunk, rowCount, rowsBefore) => {
      events.push(`visit ${String(chunk.rowCount)} ${String(rowCount)} ${String(rowsBefore)}`);
    });
    expect(rows).toBe(7);
    expect(events).toEqual(['fetch 0', 'fetched 0', 'fetch 1', 'visit 3 3 0', 'fetched 1', 'fetch 2', 'visit 4 4 3', 'fetched 2']);
  });

  it('fetches no chunk past the row limit and hands out only the rows up to it', async () => {
    const events: string[] = [];
    const visits: number[] = [];
    const rows = await forEachChunk(fakeResult([10, 10, 10, 10], events), 25, () => false, (_chunk, rowCount) => visits.push(rowCount));
    expect(rows).toBe(25);
    expect(visits).toEqual([10, 10, 5]);
    expect(events.filter((event) => event.startsWith('fetch '))).toEqual(['fetch 0', 'fetch 1', 'fetch 2']);
  });

  it('fetches nothing for a limit of 0', async () => {
    const events: string[] = [];
    expect(await forEachChunk(fakeResult([10], events), 0, () => false, () => undefined)).toBe(0);
    expect(events).toEqual([]);
  });

  it('waits for the fetch it started before passing on an error of the visit', async () => {
    const events: string[] = [];
    const failing = forEachChunk(fakeResult([5, 5, 5], events), Infinity, () => false, () => {
      throw new Error('answer too large');
    });
    await expect(failing).rejects.toThrow('answer too large');
    expect(events).toEqual(['fetch 0', 'fetched 0', 'fetch 1', 'fetched 1']);
  });

  it('answers null when cancelled, after the fetch in flight settled', async () => {
    const events: string[] = [];
    let visits = 0;
    const rows = await forEachChunk(fakeResult([5, 5, 5], events), Infinity, () => visits >= 1, () => {
      visits++;
    });
    expect(rows).toBeNull();
    expect(visits).toBe(1);
    expect(events).toEqual(['fetch 0', 'fetched 0', 'fetch 1', 'fetched 1']);
  });
});
