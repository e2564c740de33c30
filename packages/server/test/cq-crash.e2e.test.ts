// Proves a continuous query's execute killed with SIGKILL in the middle of its windows loses
// nothing and duplicates nothing: a rollup of 48 hourly windows is run once, the source gets more
// rows in every hour, and the execute run again is killed once SQL sees its first replaced
// window; after a restart on the same data directory each window holds the old rollup or the new
// one, whole (one row per host, never both), and the execute run again leaves the new one.
import { expectCleanStopAndRemove } from './support/clean-stop.js';
import { describe, expect, it } from 'vitest';
import { ArcClient, msgpack } from './support/arc-client.js';
import { startArc, type ArcProcess } from './support/arc-process.js';
import { killMidRun } from './support/kill-mid-run.js';
import { send } from './support/token-helpers.js';

const HOUR_MS = 3_600_000;
const HOURS = 48;
const HOSTS = ['a', 'b'];
/** Source rows per host and hour in each of the two writes. */
const ROWS_PER_WRITE = 3;
const BASE_MS = Date.UTC(2025, 2, 3);
const RANGE = { start_time: new Date(BASE_MS).toISOString(), end_time: new Date(BASE_MS + HOURS * HOUR_MS).toISOString() };
const ENV = { ARC_WRITER_FLUSH_AGE_MS: '600000', ARC_CONTINUOUS_QUERIES_LATENESS_SECONDS: '0' };
const ROLLUP = "SELECT time_bucket(INTERVAL '1 hour', time) AS time, host, count(*) AS n FROM cpu WHERE time >= {start_time} AND time < {end_time} GROUP BY ALL";

/** `ROWS_PER_WRITE` rows per host in every hour, at seconds from `offsetS` (the two writes never share a time). */
async function writeSource(client: ArcClient, offsetS: number): Promise<void> {
  const times = Array.from({ length: HOURS }, (_, hour) => hour).flatMap((hour) => Array.from({ length: ROWS_PER_WRITE * HOSTS.length }, (_, row) => BASE_MS + hour * HOUR_MS + (offsetS + row) * 1000));
  const body = msgpack({ m: 'cpu', columns: { time: times, host: times.map((_, index) => HOSTS[index % HOSTS.length]), v: times.map((_, index) => index) }, tags: ['host'] });
  expect((await client.write(body, { database: 'cq' })).status).toBe(204);
  expect((await client.flush()).status).toBe(200);
}

/** The destination: per hour and host, how many rollup rows and their `n`s. */
async function rollupRows(client: ArcClient): Promise<unknown[][]> {
  return client.rows(`SELECT (epoch_ms(time) - ${String(BASE_MS)}) // ${String(HOUR_MS)} AS hour, host, count(*), min(n), max(n) FROM cpu_1h GROUP BY ALL ORDER BY hour, host`, 'cq');
}

/** Every hour's rollup rows, one per host, with `n` from `nOfHour`. */
function expectedRollup(nOfHour: (hour: number) => number): unknown[][] {
  return Array.from({ length: HOURS }, (_, hour) => hour).flatMap((hour) => HOSTS.map((host) => [hour, host, 1, nOfHour(hour), nOfHour(hour)]));
}

async function execute(url: string, id: number) {
  return send(url, 'POST', `/api/v1/continuous_queries/${String(id)}/execute`, { body: RANGE });
}

describe('a continuous query execute killed with SIGKILL mid-way', () => {
  it('leaves each window with the old rollup or the new one, whole, and the execute run again finishes', async () => {
    let arc: ArcProcess = await startArc(ENV);
    const client = new ArcClient(arc.url);
    await writeSource(client, 0);
    const created = await send(arc.url, 'POST', '/api/v1/continuous_queries', { body: { name: 'cpu_1h', database: 'cq', source_measurement: 'cpu', destination_measurement: 'cpu_1h', query: ROLLUP, interval: '1h' } });
    expect(created.status, created.text).toBe(201);
    const { id } = created.json() as { id: number };
    const first = await execute(arc.url, id);
    expect(first.status, first.text).toBe(200);
    expect(await rollupRows(client)).toEqual(expectedRollup(() => ROWS_PER_WRITE));
    await writeSource(client, 100);

    const url = arc.url;
    const killed = await killMidRun(
      arc,
      ENV,
      'the windows of the execute',
      () => execute(url, id),
      // A window has been replaced once the query threads see a rollup row of the new source.
      async () => Number((await client.rows(`SELECT count(*) FROM cpu_1h WHERE n = ${String(2 * ROWS_PER_WRITE)}`, 'cq'))[0]?.[0]) > 0,
    );
    arc = killed.arc;
    try {
      // Killed among the windows, not after the last: the test proves nothing otherwise.
      expect(killed.answeredBeforeKill).toBe(false);
      const restarted = new ArcClient(arc.url);
      const after = await rollupRows(restarted);
      const newHours = new Set(after.filter((row) => row[3] === 2 * ROWS_PER_WRITE).map(([hour]) => Number(hour)));
      expect(after).toEqual(expectedRollup((hour) => (newHours.has(hour) ? 2 : 1) * ROWS_PER_WRITE));
      expect(newHours.size).toBeGreaterThan(0);
      expect(newHours.size).toBeLessThan(HOURS);

      const again = await execute(arc.url, id);
      expect(again.status, again.text).toBe(200);
      expect(await rollupRows(restarted)).toEqual(expectedRollup(() => 2 * ROWS_PER_WRITE));
    } finally {
      await expectCleanStopAndRemove(arc);
    }
  }, 60_000);
});
