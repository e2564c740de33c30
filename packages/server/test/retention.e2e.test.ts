// Proves retention in the built server: rows written across old days and hours (one hour file
// straddling the cut-off) are counted exactly by a dry run (files, rows, bytes read from disk)
// that changes nothing; the run then removes exactly the expired rows (read back row by row),
// leaves another measurement and another database untouched, and the query cache, the listings
// and the query threads follow (a cached answer from before the run is not served after it; a
// database whose every row expired leaves the listings);
// both runs are in the executions history; the API refuses bad input with the field named.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { waitUntil } from '../../../test/support/poll-until.js';
import { msgpack } from './support/arc-client.js';
import { useSharedArc } from './support/shared-arc.js';
import { createToken, send } from './support/token-helpers.js';

const shared = useSharedArc({
  // Files stay as written (one per hour): a merge would change which files a run drops.
  ARC_COMPACTION_ENABLED: 'false',
  ARC_RETENTION_SCHEDULE: '0 0 1 1 *',
  ARC_WRITER_FLUSH_AGE_MS: '600000',
});
const url = (): string => shared.arc.url;

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const RETENTION_DAYS = 10;
/** Rows of the straddling hour sit this far from the cut-off: the runs happen well within it. */
const MARGIN_MS = 2 * MINUTE_MS;
const TEST_TIMEOUT_MS = 420_000;

interface Written {
  readonly database: string;
  readonly measurement: string;
  readonly times: number[];
}

async function write({ database, measurement, times }: Written): Promise<void> {
  const body = msgpack({ m: measurement, columns: { time: times, host: times.map((_, index) => `h${String(index % 2)}`), v: times.map((_, index) => index) } });
  const answer = await shared.client.write(body, { database });
  expect(answer.status, answer.text).toBe(204);
}

async function timesOf(database: string, measurement: string): Promise<number[]> {
  const rows = await shared.client.rows(`SELECT epoch_ms(time) FROM ${measurement} ORDER BY time`, database);
  return rows.map((row) => Number(row[0]));
}

/** Every Parquet file of a measurement on disk: key (relative to the data root) -> bytes. */
function filesOnDisk(database: string, measurement: string): Map<string, number> {
  const root = path.join(shared.arc.dataDir, 'arc');
  const directory = path.join(root, database, measurement);
  const files = new Map<string, number>();
  for (const entry of readdirSync(directory, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.parquet')) continue;
    const full = path.join(entry.parentPath, entry.name);
    files.set(path.relative(root, full), statSync(full).size);
  }
  return files;
}

/** Old rows: hours 0..2 of days 20, 15 and 12 ago, four rows each (nine wholly expired hour files). */
function expiredTimes(nowMs: number): number[] {
  const times: number[] = [];
  for (const daysAgo of [20, 15, 12]) {
    const dayStart = Math.floor((nowMs - daysAgo * DAY_MS) / DAY_MS) * DAY_MS;
    for (let hour = 0; hour < 3; hour++) for (let minute = 0; minute < 4; minute++) times.push(dayStart + hour * HOUR_MS + minute * 10 * MINUTE_MS);
  }
  return times;
}

interface Executed {
  dry_run: boolean;
  status: string;
  cutoff_date: string;
  deleted_count: number;
  files_deleted: number;
  files_rewritten: number;
  bytes_removed: number;
  bytes_rewritten: number;
  affected_measurements: string[];
  files: { measurement: string; key: string; action: string; rows: number | null; bytes: number }[];
}

describe('retention in the server', () => {
  it(
    'dry-runs exactly, then removes exactly the expired rows, and every reader follows',
    async () => {
      // The cut-off moves with the clock: its rows need MARGIN_MS inside the same hour on both sides.
      await waitUntil('the cut-off is not near an hour boundary', 5 * MINUTE_MS, () => {
        const offset = Date.now() % HOUR_MS;
        return offset > MARGIN_MS + 10_000 && offset < HOUR_MS - MARGIN_MS - 10_000;
      }, 1000);
      const nowMs = Date.now();
      const cutoffMs = nowMs - RETENTION_DAYS * DAY_MS;
      const straddleBefore = [cutoffMs - MARGIN_MS, cutoffMs - MARGIN_MS + 1000, cutoffMs - MARGIN_MS + 2000];
      const straddleAfter = [cutoffMs + MARGIN_MS - 1000, cutoffMs + MARGIN_MS];
      const kept = [nowMs - 5 * DAY_MS, nowMs - DAY_MS, nowMs - MINUTE_MS];
      const cpu = [...expiredTimes(nowMs), ...straddleBefore, ...straddleAfter, ...kept];
      await write({ database: 'ret', measurement: 'cpu', times: cpu });
      await write({ database: 'ret', measurement: 'mem', times: expiredTimes(nowMs) });
      await write({ database: 'ret_other', measurement: 'cpu', times: expiredTimes(nowMs) });
      expect((await shared.client.flush()).status).toBe(200);
      await waitUntil('every row is queryable', 60_000, async () => (await timesOf('ret', 'cpu')).length === cpu.length);

      const created = await send(url(), 'POST', '/api/v1/retention', { body: { name: 'cpu-10d', database: 'ret', measurement: 'cpu', retention_days: RETENTION_DAYS, buffer_days: 0 } });
      expect(created.status, created.text).toBe(201);
      const policy = created.json() as { id: number };

      // The answer is cached before the run (a hit the second time).
      const countSql = 'SELECT count(*) FROM cpu';
      expect((await shared.client.query(countSql, 'ret')).status).toBe(200);
      expect((await shared.client.query(countSql, 'ret')).headers.get('x-arc-cache')).toBe('hit');

      const before = filesOnDisk('ret', 'cpu');
      const straddleHour = Math.floor(cutoffMs / HOUR_MS) * HOUR_MS;
      const hourKey = (ms: number): string => new Date(ms).toISOString().slice(0, 13).replace(/[-T]/g, '/');
      const straddleKeys = [...before.keys()].filter((key) => key.includes(`/${hourKey(straddleHour)}/`));
      expect(straddleKeys.length).toBe(1);
      const dropKeys = [...before.keys()].filter((key) => expiredTimes(nowMs).some((time) => key.includes(`/${hourKey(time)}/`)));
      expect(dropKeys.length).toBe(9);

      const dryAnswer = await send(url(), 'POST', `/api/v1/retention/${String(policy.id)}/execute`, { body: { dry_run: true } });
      expect(dryAnswer.status, dryAnswer.text).toBe(200);
      const dry = dryAnswer.json() as Executed;
      const sum = (keys: string[]): number => keys.reduce((total, key) => total + (before.get(key) ?? 0), 0);
      expect(dry).toMatchObject({ dry_run: true, status: 'completed', deleted_count: 36 + straddleBefore.length, files_deleted: 9, files_rewritten: 1, affected_measurements: ['cpu'] });
      expect(dry.bytes_removed).toBe(sum(dropKeys));
      expect(dry.bytes_rewritten).toBe(sum(straddleKeys));
      expect(dry.files.filter((file) => file.action === 'drop').map((file) => [file.key, file.rows, file.bytes]).sort()).toEqual(dropKeys.map((key) => [key, 4, before.get(key)]).sort());
      expect(dry.files.filter((file) => file.action === 'rewrite').map((file) => [file.key, file.rows, file.bytes])).toEqual([[straddleKeys[0], straddleBefore.length, sum(straddleKeys)]]);
      expect(filesOnDisk('ret', 'cpu')).toEqual(before);

      const runAnswer = await send(url(), 'POST', `/api/v1/retention/${String(policy.id)}/execute`, { body: { dry_run: false } });
      expect(runAnswer.status, runAnswer.text).toBe(200);
      const run = runAnswer.json() as Executed;
      expect(run).toMatchObject({ dry_run: false, status: 'completed', deleted_count: 36 + straddleBefore.length, files_deleted: 9, files_rewritten: 1 });
      const after = filesOnDisk('ret', 'cpu');
      expect(run.bytes_removed).toBe(sum([...before.keys()]) - [...after.values()].reduce((total, bytes) => total + bytes, 0));

      const expected = [...straddleAfter, ...kept].sort((a, b) => a - b);
      expect(await timesOf('ret', 'cpu')).toEqual(expected);
      const recount = await shared.client.query(countSql, 'ret');
      expect(recount.headers.get('x-arc-cache')).toBe('miss');
      expect((recount.json() as { data: number[][] }).data).toEqual([[expected.length]]);
      expect(await timesOf('ret', 'mem')).toEqual(expiredTimes(nowMs).sort((a, b) => a - b));
      expect(await timesOf('ret_other', 'cpu')).toEqual(expiredTimes(nowMs).sort((a, b) => a - b));
      const listing = (await send(url(), 'GET', '/api/v1/databases/ret/measurements')).json() as { measurements: { name: string; file_count: number }[] };
      expect(listing.measurements.find((entry) => entry.name === 'cpu')?.file_count).toBe(after.size);

      const history = (await send(url(), 'GET', `/api/v1/retention/${String(policy.id)}/executions`)).json() as { executions: { dry_run: boolean; status: string; deleted_count: number }[] };
      expect(history.executions.map((execution) => [execution.dry_run, execution.status, execution.deleted_count])).toEqual([
        [false, 'completed', 36 + straddleBefore.length],
        [true, 'completed', 36 + straddleBefore.length],
      ]);
      const shown = (await send(url(), 'GET', `/api/v1/retention/${String(policy.id)}`)).json() as Record<string, unknown>;
      expect(shown).toMatchObject({ last_execution_status: 'completed', last_deleted_count: 36 + straddleBefore.length, running: null });

      // A policy over a whole database whose every row expired: its measurement leaves the listings.
      const whole = (await send(url(), 'POST', '/api/v1/retention', { body: { name: 'other-10d', database: 'ret_other', retention_days: RETENTION_DAYS, buffer_days: 0 } })).json() as { id: number };
      const emptied = (await send(url(), 'POST', `/api/v1/retention/${String(whole.id)}/execute`, { body: {} })).json() as Executed;
      expect(emptied).toMatchObject({ status: 'completed', deleted_count: 36, files_deleted: 9, files_rewritten: 0 });
      expect((await send(url(), 'GET', '/api/v1/databases/ret_other/measurements')).status).toBe(404);
      const otherQuery = await shared.client.query('SELECT count(*) FROM cpu', 'ret_other');
      expect(otherQuery.json()).toMatchObject({ code: 'ARC_QUERY_UNKNOWN_TABLE' });
      expect(await timesOf('ret', 'mem')).toEqual(expiredTimes(nowMs).sort((a, b) => a - b));
    },
    TEST_TIMEOUT_MS,
  );

  it('refuses bad input naming the field, unknown ids, taken names and non-admin tokens', async () => {
    const post = (body: unknown): ReturnType<typeof send> => send(url(), 'POST', '/api/v1/retention', { body });
    const bad = await post({ name: 'p', database: 'ret', retention_days: 0 });
    expect(bad.status).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'ARC_BAD_REQUEST_BODY', field: 'retention_days' });
    const badDatabase = await post({ name: 'p', database: 'system', retention_days: 3 });
    expect(badDatabase.status).toBe(400);
    expect(badDatabase.json()).toMatchObject({ code: 'ARC_RETENTION_BAD_POLICY', field: 'database' });
    const unknownField = await post({ name: 'p', database: 'ret', retention_days: 3, retention_day: 3 });
    expect(unknownField.json()).toMatchObject({ field: 'retention_day' });
    expect((await post({ name: 'dup', database: 'ret', retention_days: 3 })).status).toBe(201);
    const taken = await post({ name: 'dup', database: 'ret', retention_days: 4 });
    expect(taken.status).toBe(409);
    expect(taken.json()).toMatchObject({ code: 'ARC_RETENTION_NAME_TAKEN' });
    expect((await send(url(), 'GET', '/api/v1/retention/999999')).status).toBe(404);
    expect((await send(url(), 'POST', '/api/v1/retention/999999/execute', { body: {} })).json()).toMatchObject({ code: 'ARC_RETENTION_NOT_FOUND' });
    const badId = await send(url(), 'DELETE', '/api/v1/retention/abc');
    expect(badId.status).toBe(400);
    expect(badId.json()).toMatchObject({ code: 'ARC_RETENTION_BAD_ID', field: 'id' });
    const badDryRun = await send(url(), 'POST', '/api/v1/retention/1/execute', { body: { dry_run: 'yes' } });
    expect(badDryRun.json()).toMatchObject({ field: 'dry_run' });
    const reader = await createToken(url(), { name: 'retention-reader', permissions: ['read'] });
    expect((await send(url(), 'GET', '/api/v1/retention', { token: reader.token })).status).toBe(403);
    const list = (await send(url(), 'GET', '/api/v1/retention')).json() as { name: string }[];
    expect(list.map((policy) => policy.name)).toContain('dup');
  });
});
