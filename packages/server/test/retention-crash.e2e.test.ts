// Proves a retention run killed with SIGKILL in its middle loses nothing it should keep: a server
// holding 24 expired hour files and recent rows is killed once the run is going, restarted on
// the same data directory, and then holds every recent row and, of the expired day, all its rows
// or none (its files are dropped in one job: one lease, one manifest), never a duplicate; a second
// run then leaves exactly the recent rows.
import { expectCleanStopAndRemove } from './support/clean-stop.js';
import { describe, expect, it } from 'vitest';
import { ArcClient, msgpack } from './support/arc-client.js';
import { startArc, type ArcProcess } from './support/arc-process.js';
import { killMidRun } from './support/kill-mid-run.js';
import { send } from './support/token-helpers.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const ROWS_PER_HOUR = 4;
const ENV = { ARC_RETENTION_SCHEDULE: '0 0 1 1 *', ARC_WRITER_FLUSH_AGE_MS: '600000' };

async function times(client: ArcClient): Promise<number[]> {
  return (await client.rows('SELECT epoch_ms(time) FROM cpu ORDER BY time', 'crash')).map((row) => Number(row[0]));
}

describe('a retention run killed with SIGKILL', () => {
  it('leaves the expired day whole or gone and every kept row, and the next run finishes', async () => {
    let arc: ArcProcess = await startArc(ENV);
    const dayStart = Math.floor((Date.now() - 30 * DAY_MS) / DAY_MS) * DAY_MS;
    const expired = Array.from({ length: 24 * ROWS_PER_HOUR }, (_, index) => dayStart + Math.floor(index / ROWS_PER_HOUR) * HOUR_MS + (index % ROWS_PER_HOUR) * 1000);
    const kept = [Date.now() - 2 * DAY_MS, Date.now() - DAY_MS];
    const client = new ArcClient(arc.url);
    const all = [...expired, ...kept];
    expect((await client.write(msgpack({ m: 'cpu', columns: { time: all, host: all.map(() => 'h'), v: all.map((_, index) => index) } }), { database: 'crash' })).status).toBe(204);
    expect((await client.flush()).status).toBe(200);
    const policy = (await send(arc.url, 'POST', '/api/v1/retention', { body: { name: 'crash-10d', database: 'crash', retention_days: 10, buffer_days: 0 } })).json() as { id: number };

    const url = arc.url;
    ({ arc } = await killMidRun(
      arc,
      ENV,
      'the retention run',
      () => send(url, 'POST', `/api/v1/retention/${String(policy.id)}/execute`, { body: {} }),
      async () => ((await send(url, 'GET', `/api/v1/retention/${String(policy.id)}`)).json() as { running: unknown }).running !== null,
    ));
    try {
      const restarted = new ArcClient(arc.url);
      const after = await times(restarted);
      expect(after.filter((time) => kept.includes(time))).toEqual(kept);
      expect(new Set(after).size).toBe(after.length);
      const hours = new Map<number, number>();
      for (const time of after.filter((candidate) => !kept.includes(candidate))) hours.set(Math.floor(time / HOUR_MS), (hours.get(Math.floor(time / HOUR_MS)) ?? 0) + 1);
      for (const rows of hours.values()) expect(rows).toBe(ROWS_PER_HOUR);
      // The day's 24 hour files go in one job: before it or after it, never part of the day.
      expect([0, 24]).toContain(hours.size);

      const again = await send(arc.url, 'POST', `/api/v1/retention/${String(policy.id)}/execute`, { body: {} });
      expect(again.json()).toMatchObject({ status: 'completed' });
      expect(await times(restarted)).toEqual(kept);
    } finally {
      await expectCleanStopAndRemove(arc);
    }
  }, 180_000);
});
