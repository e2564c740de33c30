// Proves that a time bound DuckDB evaluates to a TIMESTAMP WITH TIME ZONE (now() - INTERVAL 1
// HOUR) is put in the statement as the TIMESTAMP it evaluated to, so no row's time is cast: the
// plan of such a query casts nothing to TIMESTAMPTZ, and every answer equals the one a plain
// DuckDB gives for the statement as written over the same files (TimeZone UTC, as the server's);
// the same statement sent again gets the bound of its own moment.
// Run `npx tsc -b packages/query` first: the pool's workers load the compiled dist/query-worker.js.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueryPool } from '../src/index.js';
import { sharedConnection } from './duckdb-connection.js';
import { DataDir, query } from './fixtures.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
/** Rows 7 minutes apart, 3 minutes off the quarter hours: no bound below lands within a minute of one. */
const ROW_STEP_MINUTES = 7;
const ROW_OFFSET_MINUTES = 3;

const reference = sharedConnection();
let dir: DataDir;
let pool: QueryPool;

function hourPath(ms: number): string {
  return new Date(ms).toISOString().slice(0, 13).replace(/[-T]/g, '/');
}

/** Writes rows i in [first, last) at now - (i * 7 + 3) minutes, one file per hour as the writer lays them out. */
async function writeMeasurement(measurement: string, startMs: number, keep: (i: number) => boolean): Promise<void> {
  const byHour = new Map<string, string[]>();
  for (let i = -3; i < 40; i++) {
    if (!keep(i)) continue;
    const ms = startMs - (i * ROW_STEP_MINUTES + ROW_OFFSET_MINUTES) * MINUTE_MS;
    const time = new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
    const rows = byHour.get(hourPath(ms)) ?? [];
    rows.push(`(TIMESTAMP '${time}', ${String(i)}::BIGINT, TIMESTAMP '${time}' - INTERVAL 50 MINUTE)`);
    byHour.set(hourPath(ms), rows);
  }
  for (const [hour, rows] of byHour) {
    await dir.writeParquet(dir.filePath('default', measurement, hour, `${measurement}_a.parquet`), `SELECT * FROM (VALUES ${rows.join(', ')}) t(time, v, other)`);
  }
}

beforeAll(async () => {
  dir = await DataDir.create();
  const startMs = Date.now();
  await writeMeasurement('m', startMs, () => true);
  await writeMeasurement('n', startMs, (i) => i % 2 === 0);
  const connection = reference();
  await connection.run("SET TimeZone = 'UTC'");
  for (const measurement of ['m', 'n']) {
    await connection.run(`CREATE VIEW ${measurement} AS SELECT * FROM read_parquet('${dir.dataRoot}/default/${measurement}/**/*.parquet', union_by_name = true)`);
  }
  pool = dir.pool({ threads: 1 });
  await pool.ready();
  expect(startMs + HOUR_MS).toBeGreaterThan(Date.now());
});

afterAll(async () => {
  await pool.close();
  dir.remove();
});

/** The reference answer as the JSON answer has it (BIGINT as number). */
async function referenceAnswer(sql: string): Promise<unknown[][]> {
  const rows = (await reference().runAndReadAll(sql)).getRowsJS();
  return rows.map((row) => row.map((value) => (typeof value === 'bigint' ? Number(value) : value)));
}

describe('bounds evaluated as TIMESTAMPTZ', () => {
  it.each([
    ['now() - INTERVAL 1 HOUR', 'SELECT count(*), sum(v) FROM m WHERE time > now() - INTERVAL 1 HOUR'],
    ['>= and a quoted interval', "SELECT count(*), sum(v) FROM m WHERE time >= now() - INTERVAL '15 minutes'"],
    ['< and to_hours()', 'SELECT count(*), sum(v) FROM m WHERE time < now() - to_hours(1)'],
    ['both sides, flipped', 'SELECT count(*), sum(v) FROM m WHERE now() - INTERVAL 2 HOUR <= time AND time < now()'],
    ['BETWEEN', 'SELECT count(*), sum(v) FROM m WHERE time BETWEEN now() - INTERVAL 2 HOUR AND now() - INTERVAL 30 MINUTE'],
    ['in parentheses', 'SELECT count(*), sum(v) FROM m WHERE time > (now() - INTERVAL 90 MINUTE) AND v >= 0'],
    ['= one instant (the same bound below and above)', 'SELECT count(*) FROM m WHERE time = now() - INTERVAL 1 HOUR'],
    ['a comment inside', 'SELECT count(*), sum(v) FROM m WHERE time > now() /* an hour */ - INTERVAL 1 HOUR'],
    ['current_timestamp', 'SELECT count(*), sum(v) FROM m WHERE time > current_timestamp - INTERVAL 1 HOUR'],
    ['date_trunc of now()', "SELECT count(*), sum(v) FROM m WHERE time >= date_trunc('hour', now())"],
    ['a joined table by its alias', 'SELECT count(*), sum(a.v) FROM m a JOIN n b ON a.time = b.time WHERE b.time > now() - INTERVAL 90 MINUTE'],
    ['inside a CTE', 'WITH recent AS (SELECT v FROM m WHERE time >= now() - INTERVAL 1 HOUR) SELECT count(*), sum(v) FROM recent'],
    ['a bound with a subquery', 'SELECT count(*), sum(v) FROM m WHERE time > (SELECT max(time) FROM n) - INTERVAL 1 HOUR'],
    ['a non-time column', 'SELECT count(*), sum(v) FROM m WHERE other > now() - INTERVAL 1 HOUR'],
    ['now() in the select list stays a TIMESTAMPTZ', 'SELECT typeof(now()), typeof(now() - INTERVAL 1 HOUR), count(*) FROM m WHERE time > now() - INTERVAL 1 HOUR'],
  ])('%s: the answer DuckDB gives for the statement as written', async (_, sql) => {
    const answer = await query(pool, sql);
    expect(answer.data).toEqual(await referenceAnswer(sql));
    expect(answer.row_count).toBeGreaterThan(0);
  });

  it('casts no row to TIMESTAMPTZ: the bound is a TIMESTAMP in the plan', async () => {
    // A bound half an hour into an hour: the file of that hour has rows on both sides of it, so
    // DuckDB keeps the filter (a bound just past an hour's first row let the file's statistics
    // prove it always true, and the plan showed no filter at all, failing this test a few
    // minutes of every hour).
    const minutesBack = 60 + ((new Date().getUTCMinutes() - 30 + 60) % 60);
    const plan = JSON.stringify((await query(pool, `EXPLAIN SELECT count(*), sum(v) FROM m WHERE time > now() - INTERVAL ${String(minutesBack)} MINUTE`)).data);
    expect(plan).not.toMatch(/TIME ZONE/i);
    // Pushed down to the files as a TIMESTAMP literal (DuckDB wraps the plan's lines).
    expect(plan).toMatch(/Filters:[^']*time>'\d{4}-\d\d-\d\d/);
    expect(plan).toContain("'::TIMESTAMP");
    // Written as a TIMESTAMP already, the bound was never cast; a TIMESTAMPTZ column compare stays as written.
    const other = JSON.stringify((await query(pool, 'EXPLAIN SELECT count(*) FROM m WHERE other > now() - INTERVAL 1 HOUR')).data);
    expect(other).toMatch(/TIME ZONE/i);
  });

  it('evaluates a bound anew each time the same statement comes again', async () => {
    // Half an hour into an hour, as above: the plan keeps the filter, with its bound.
    const minutesBack = 60 + ((new Date().getUTCMinutes() - 30 + 60) % 60);
    const sql = `EXPLAIN SELECT count(*) FROM m WHERE time > now() - INTERVAL ${String(minutesBack)} MINUTE`;
    // EXPLAIN draws the bound in a box, wrapped and centred ('... 18:30:57 │\n│    .625114'), and
    // trims a fraction's trailing zeros, so its text is read back to microseconds, not compared as text.
    const boundOf = async (): Promise<bigint> => {
      const plan = JSON.stringify((await query(pool, sql)).data);
      const bound = /time>'([^']+)'/.exec(plan)?.[1];
      expect(bound).toBeDefined();
      const unwrapped = (bound ?? '').replace(/ *│\\n│ */g, '');
      const match = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?$/.exec(unwrapped);
      expect(match, unwrapped).not.toBeNull();
      const [, day = '', clock = '', fraction = ''] = match ?? [];
      return BigInt(Date.parse(`${day}T${clock}Z`)) * 1000n + BigInt(fraction.padEnd(6, '0'));
    };
    // The bound is now() to the millisecond (the thread's clock): the second is taken a millisecond on at least.
    const first = await boundOf();
    const tick = Date.now();
    while (Date.now() <= tick) await new Promise((resolve) => setImmediate(resolve));
    const second = await boundOf();
    expect(second > first).toBe(true);
  });
});
