// Proves that after a crash (SIGKILL with acknowledged rows only in the WAL) two servers started
// together on the same data directory cannot both start: exactly one becomes ready, the other
// exits 1 naming the holder, and the WAL is replayed once, so every acknowledged row is there
// exactly once (a second replay would double them).
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArcClient, msgpack } from '../support/arc-client.js';
import { startArc, type ArcProcess } from '../support/arc-process.js';

const REQUESTS = 200;
const ROWS_PER_REQUEST = 500;
/** Nothing is flushed before the kill: every row lives in the WAL only. */
const ENV = {
  ARC_WAL_ENABLED: 'true',
  ARC_WAL_SYNC_MODE: 'fdatasync',
  ARC_WRITER_FLUSH_AGE_MS: '3600000',
  ARC_WRITER_FLUSH_ROWS: '100000000',
};

function requestBody(request: number): Uint8Array {
  const rows = Array.from({ length: ROWS_PER_REQUEST }, (_, row) => row);
  const time = rows.map((row) => Date.UTC(2024, 0, 1) + request * ROWS_PER_REQUEST + row);
  return msgpack({ m: 'twins', tags: ['req'], columns: { time, req: rows.map(() => `r${String(request)}`), v: rows } });
}

describe('two servers started together after a crash', () => {
  it('start one, which replays the WAL once', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'arc-twins-'));
    const crashed = await startArc(ENV, dataDir);
    const client = new ArcClient(crashed.url);
    for (let request = 0; request < REQUESTS; request++) expect((await client.write(requestBody(request))).status).toBe(204);
    await crashed.kill();

    const starts = await Promise.allSettled([startArc(ENV, dataDir), startArc(ENV, dataDir)]);
    const servers = starts.flatMap((start): ArcProcess[] => (start.status === 'fulfilled' ? [start.value] : []));
    const failures = starts.flatMap((start): string[] => (start.status === 'rejected' ? [(start.reason as Error).message] : []));
    try {
      expect(servers).toHaveLength(1);
      expect(failures).toHaveLength(1);
      expect(failures[0]).toContain('exited with 1 before ready');
      expect(failures[0]).toContain('ARC_DATA_DIR_LOCKED');
      const [server] = servers;
      if (server === undefined) throw new Error('no server started');
      const rows = await new ArcClient(server.url).rows('SELECT count(*), count(DISTINCT (req, v)) FROM twins');
      expect(rows).toEqual([[REQUESTS * ROWS_PER_REQUEST, REQUESTS * ROWS_PER_REQUEST]]);
    } finally {
      for (const server of servers) await server.stop();
      await crashed.cleanup();
    }
  }, 300_000);
});
