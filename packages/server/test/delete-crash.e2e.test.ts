// Proves a delete killed with SIGKILL in the middle of its rewrites loses nothing and duplicates
// nothing: a server holding one file per hour for 48 hours (hosts a and b) is killed after the
// first of the delete's rewrites, restarted on the same data directory, and then
// holds every host b row once and, of each hour, all its host a rows (the old file) or none (the
// rewritten one); the same delete run again then leaves exactly the host b rows. The kill comes
// when GET /api/v1/delete/running, listing the delete under the X-Request-Id its request sent,
// counts its first file rewritten.
import { expectCleanStopAndRemove } from './support/clean-stop.js';
import { describe, expect, it } from 'vitest';
import { ArcClient, msgpack } from './support/arc-client.js';
import { startArc, type ArcProcess } from './support/arc-process.js';
import { killMidRun } from './support/kill-mid-run.js';
import { send } from './support/token-helpers.js';

const HOUR_MS = 3_600_000;
const HOURS = 48;
const ROWS_PER_HOST_HOUR = 3;
const BASE_MS = Date.UTC(2025, 2, 3);
const ENV = { ARC_WRITER_FLUSH_AGE_MS: '600000' };
const DELETE = { database: 'crash', measurement: 'cpu', where: "host = 'a'", confirm: true };
const REQUEST_ID = 'delete-crash-1';

/** An entry of GET /api/v1/delete/running. */
interface RunningDelete {
  readonly request_id: string | null;
  readonly phase: string;
  readonly files_done: number;
}

/** Per hour (index from BASE_MS) and host: the row count and the distinct times. */
async function hourCounts(client: ArcClient): Promise<unknown[][]> {
  return client.rows(`SELECT (epoch_ms(time) - ${String(BASE_MS)}) // ${String(HOUR_MS)} AS hour, host, count(*), count(DISTINCT time) FROM cpu GROUP BY ALL ORDER BY hour, host`, 'crash');
}

const hostRows = (host: string, hours: readonly number[]): unknown[][] => hours.map((hour) => [hour, host, ROWS_PER_HOST_HOUR, ROWS_PER_HOST_HOUR]);

describe('a delete killed with SIGKILL mid-way', () => {
  it('leaves each hour file as it was or rewritten, every kept row once, and the delete run again finishes', async () => {
    let arc: ArcProcess = await startArc(ENV);
    const hours = Array.from({ length: HOURS }, (_, hour) => hour);
    const times = hours.flatMap((hour) => Array.from({ length: 2 * ROWS_PER_HOST_HOUR }, (_, row) => BASE_MS + hour * HOUR_MS + row * 1000));
    const client = new ArcClient(arc.url);
    const body = msgpack({ m: 'cpu', columns: { time: times, host: times.map((_, index) => (index % 2 === 0 ? 'a' : 'b')), v: times.map((_, index) => index) }, tags: ['host'] });
    expect((await client.write(body, { database: 'crash' })).status).toBe(204);
    expect((await client.flush()).status).toBe(200);
    expect(await hourCounts(client)).toEqual(hours.flatMap((hour) => [...hostRows('a', [hour]), ...hostRows('b', [hour])]));

    const url = arc.url;
    const progress: RunningDelete[] = [];
    const killed = await killMidRun(
      arc,
      ENV,
      'the delete rewrites',
      () => send(url, 'POST', '/api/v1/delete', { body: DELETE, headers: { 'X-Request-Id': REQUEST_ID } }),
      // The running list counts a file once its rewrite ended (published): one is enough.
      async () => {
        const running = (await send(url, 'GET', '/api/v1/delete/running')).json() as { deletes: RunningDelete[] };
        progress.push(...running.deletes);
        return running.deletes.some((run) => run.request_id === REQUEST_ID && run.phase === 'rewriting' && run.files_done >= 1);
      },
    );
    arc = killed.arc;
    try {
      // Killed among the rewrites, not after the last: the test proves nothing otherwise.
      expect(killed.answeredBeforeKill).toBe(false);
      // GET /api/v1/delete/running showed it under the client's request id, rewriting the 48 files.
      expect(progress.length).toBeGreaterThan(0);
      expect(progress).toContainEqual(expect.objectContaining({ request_id: REQUEST_ID, database: 'crash', measurement: 'cpu', dry_run: false, phase: 'rewriting', files_total: HOURS }));
      expect((await send(arc.url, 'GET', '/api/v1/delete/running')).json()).toEqual({ deletes: [] });
      const restarted = new ArcClient(arc.url);
      const after = await hourCounts(restarted);
      expect(after.filter(([, host]) => host === 'b')).toEqual(hostRows('b', hours));
      const oldHours = after.filter(([, host]) => host === 'a').map(([hour]) => Number(hour));
      expect(after.filter(([, host]) => host === 'a')).toEqual(hostRows('a', oldHours));
      // At least the finished job's hour was rewritten.
      expect(oldHours.length).toBeLessThan(HOURS);

      const again = await send(arc.url, 'POST', '/api/v1/delete', { body: DELETE });
      expect(again.status, again.text).toBe(200);
      expect(again.json()).toMatchObject({ success: true, deleted_count: oldHours.length * ROWS_PER_HOST_HOUR });
      expect(await hourCounts(restarted)).toEqual(hostRows('b', hours));
    } finally {
      await expectCleanStopAndRemove(arc);
    }
  }, 60_000);
});
