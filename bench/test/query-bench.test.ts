// Proves that bench/query asks the TSBS questions of docs/benchmarks.md: the generator draws its random
// parameters deterministically inside the dataset, each query's SQL returns what the TSBS query
// means (checked against answers computed in plain JS from the same generated rows, run by DuckDB
// over a `cpu` table shaped like Arc's view), and the answer comparison behind --verify catches
// wrong answers.
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIELD_KEYS, START_MS, TAG_KEYS, TsbsCpu } from '../ingest/tsbs.mjs';
import type { CpuRow } from '../ingest/tsbs.mjs';
import { answerFromArcJson, answerFromDuckDB, compareAnswers, rfc3339Micros } from '../query/answers.mjs';
import type { Answer, Canonical } from '../query/answers.mjs';
import { parseOptions, profileFigures, summaryLine, UsageError } from '../query/query.mjs';
import {
  HIGH_CPU_THRESHOLD,
  HOUR_MS,
  INSTANTS_PER_HOUR,
  MINUTE_MS,
  ORDERBY_LIMIT,
  QUERY_NAMES,
  VARIANT_NAMES,
  QUERY_SHAPES,
  REFERENCE_MS,
  TsbsQueryGenerator,
  parseQueryList,
  querySql,
  timestampLiteral,
} from '../query/tsbs-queries.mjs';
import type { GeneratedQuery, QueryName } from '../query/tsbs-queries.mjs';

describe('TSBS query generator', () => {
  it('is deterministic per seed, and each query has its own stream', () => {
    const a = new TsbsQueryGenerator({ hosts: 100, hours: 12, seed: 5 });
    const b = new TsbsQueryGenerator({ hosts: 100, hours: 12, seed: 5 });
    const c = new TsbsQueryGenerator({ hosts: 100, hours: 12, seed: 6 });
    const first = Array.from({ length: 5 }, () => a.next('single-groupby-1-1-1').sql);
    // Drawing the other queries in between does not change single-groupby-1-1-1's sequence.
    const interleaved = QUERY_NAMES.map((name) => b.next(name).sql).filter((sql) => sql.includes('max_usage_user FROM cpu WHERE hostname'));
    for (let i = 1; i < 5; i++) {
      b.next('lastpoint');
      interleaved.push(b.next('single-groupby-1-1-1').sql);
    }
    expect(interleaved).toEqual(first);
    const other = Array.from({ length: 5 }, () => c.next('single-groupby-1-1-1').sql);
    expect(other).not.toEqual(first);
    expect(new Set(first).size).toBeGreaterThan(1); // the parameters move from run to run
  });

  it('draws distinct hosts and windows of the TSBS length inside the dataset', () => {
    const hours = 12;
    const gen = new TsbsQueryGenerator({ hosts: 100, hours, seed: 123 });
    const end = START_MS + hours * HOUR_MS;
    for (const name of QUERY_NAMES) {
      const shape = QUERY_SHAPES[name];
      for (let i = 0; i < 200; i++) {
        const q = gen.next(name);
        expect(q.hosts).toHaveLength(shape.hosts);
        expect(new Set(q.hosts).size).toBe(q.hosts.length);
        for (const h of q.hosts) expect(Number(h.slice('host_'.length))).toBeLessThan(100);
        if (name === 'lastpoint') {
          expect([q.startMs, q.endMs]).toEqual([null, null]);
        } else if (name === 'groupby-orderby-limit') {
          expect(q.startMs).toBeNull();
          expect(q.endMs).toBeGreaterThanOrEqual(START_MS + HOUR_MS);
          expect(q.endMs).toBeLessThanOrEqual(end);
        } else {
          expect((q.endMs ?? 0) - (q.startMs ?? 0)).toBe(shape.hours * HOUR_MS);
          expect(q.startMs).toBeGreaterThanOrEqual(START_MS);
          expect(q.endMs).toBeLessThanOrEqual(end);
          expect((q.startMs ?? 0) % 1000).toBe(0);
        }
      }
    }
    // 12 h windows over 12 h of data: the whole dataset every time.
    expect(gen.next('double-groupby-1').sql).toContain(`time >= ${timestampLiteral(START_MS)} AND time < ${timestampLiteral(end)}`);
  });

  it('clamps windows longer than the dataset (smoke scale) and needs hosts for cpu-max-all-8', () => {
    const gen = new TsbsQueryGenerator({ hosts: 10, hours: 1, seed: 1 });
    const q = gen.next('cpu-max-all-8');
    expect([q.startMs, q.endMs]).toEqual([START_MS, START_MS + HOUR_MS]);
    expect(q.hosts).toHaveLength(8);
    expect(() => new TsbsQueryGenerator({ hosts: 7, hours: 1, seed: 1 })).toThrow(/hosts must be an integer >= 8/);
    expect(() => new TsbsQueryGenerator({ hosts: 10, hours: 0, seed: 1 })).toThrow(/hours/);
  });

  it('writes the natural DuckDB SQL of each TSBS query', () => {
    const p = { hosts: ['host_3'], startMs: START_MS + 90_000, endMs: START_MS + 90_000 + HOUR_MS };
    expect(querySql('single-groupby-1-1-1', p).sql).toBe(
      "SELECT time_bucket(INTERVAL 1 minute, time) AS minute, max(usage_user) AS max_usage_user FROM cpu WHERE hostname = 'host_3' " +
        "AND time >= TIMESTAMP '2016-01-01 00:01:30' AND time < TIMESTAMP '2016-01-01 01:01:30' GROUP BY minute ORDER BY minute",
    );
    expect(querySql('lastpoint', p).sql).toBe(
      'SELECT * FROM cpu WHERE (hostname, time) IN (SELECT hostname, max(time) FROM cpu GROUP BY hostname) ORDER BY hostname',
    );
    expect(querySql('cpu-max-all-8', { ...p, hosts: ['host_1', 'host_2'] }).sql).toContain("hostname IN ('host_1', 'host_2')");
    expect(querySql('high-cpu-all', p)).toEqual({
      sql: "SELECT * FROM cpu WHERE usage_user > 90 AND time >= TIMESTAMP '2016-01-01 00:01:30' AND time < TIMESTAMP '2016-01-01 01:01:30'",
      ordered: false,
    });
    expect(timestampLiteral(START_MS + 1)).toBe("TIMESTAMP '2016-01-01 00:00:00.001'");
  });

  it('keeps one reference table with a row per query (docs/benchmarks.md)', () => {
    expect(Object.keys(REFERENCE_MS)).toEqual([...QUERY_NAMES, ...VARIANT_NAMES]);
    expect(REFERENCE_MS['single-groupby-1-1-1']).toEqual({ influxdb_1_6_7: 2.5, clickhouse_18_16: 2.6, duckdb_in_process: 9.3 });
    expect(REFERENCE_MS.lastpoint.duckdb_in_process).toBe(19.7);
    expect(parseQueryList('all')).toEqual([...QUERY_NAMES]);
    expect(parseQueryList('lastpoint, high-cpu-all')).toEqual(['lastpoint', 'high-cpu-all']);
    expect(() => parseQueryList('lastpoint,high-cpu-1')).toThrow('unknown query "high-cpu-1"');
  });
});

// ---------------------------------------------------------------------------------------------
// Each query's SQL against answers computed in JS from the same rows.

const HOSTS = 10;
const HOURS = 2;

function canonicalRow(row: CpuRow): Canonical[] {
  return [row.time * 1000, ...TAG_KEYS.map((k) => row.tags[k]), ...FIELD_KEYS.map((k) => String(row.fields[k]))];
}

function bucketed<T>(rows: CpuRow[], bucketMs: number, key: (r: CpuRow, bucket: number) => string, init: () => T, add: (acc: T, r: CpuRow) => void) {
  const groups = new Map<string, { bucket: number; row: CpuRow; acc: T }>();
  for (const r of rows) {
    const bucket = Math.floor(r.time / bucketMs) * bucketMs;
    const k = key(r, bucket);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { bucket, row: r, acc: init() }));
    add(g.acc, r);
  }
  return [...groups.values()];
}

/** What each TSBS query means, computed over the generated rows without SQL. */
function expectedAnswer(q: GeneratedQuery, rows: CpuRow[]): Answer {
  const shape = QUERY_SHAPES[q.name];
  const inWindow = (r: CpuRow) => r.time >= (q.startMs ?? -Infinity) && r.time < (q.endMs ?? Infinity);
  const fields = shape.fields as readonly (typeof FIELD_KEYS)[number][];
  switch (shape.kind) {
    case 'max-per-minute':
    case 'max-per-hour': {
      const label = shape.kind === 'max-per-minute' ? 'minute' : 'hour';
      const picked = rows.filter((r) => q.hosts.includes(r.tags.hostname) && inWindow(r));
      const groups = bucketed(picked, label === 'minute' ? MINUTE_MS : HOUR_MS, (_, b) => String(b), () => fields.map(() => -1), (acc, r) => fields.forEach((f, i) => (acc[i] = Math.max(acc[i]!, r.fields[f]))));
      groups.sort((a, b) => a.bucket - b.bucket);
      return {
        columns: [label, ...fields.map((f) => `max_${f}`)],
        kinds: ['timestamp', ...fields.map(() => 'integer' as const)],
        rows: groups.map((g) => [g.bucket * 1000, ...g.acc.map(String)]),
      };
    }
    case 'avg-per-host-hour': {
      const groups = bucketed(rows.filter(inWindow), HOUR_MS, (r, b) => `${b}/${r.tags.hostname}`, () => ({ n: 0, sums: fields.map(() => 0) }), (acc, r) => {
        acc.n++;
        fields.forEach((f, i) => (acc.sums[i]! += r.fields[f]));
      });
      groups.sort((a, b) => a.bucket - b.bucket || (a.row.tags.hostname < b.row.tags.hostname ? -1 : 1));
      return {
        columns: ['hour', 'hostname', ...fields.map((f) => `mean_${f}`)],
        kinds: ['timestamp', 'text', ...fields.map(() => 'float' as const)],
        rows: groups.map((g) => [g.bucket * 1000, g.row.tags.hostname, ...g.acc.sums.map((s) => s / g.acc.n)]),
      };
    }
    case 'high-cpu':
    case 'lastpoint': {
      let picked: CpuRow[];
      if (shape.kind === 'high-cpu') picked = rows.filter((r) => r.fields.usage_user > HIGH_CPU_THRESHOLD && inWindow(r));
      else {
        const last = new Map<string, CpuRow>();
        for (const r of rows) if ((last.get(r.tags.hostname)?.time ?? -1) < r.time) last.set(r.tags.hostname, r);
        picked = [...last.values()].sort((a, b) => (a.tags.hostname < b.tags.hostname ? -1 : 1));
      }
      return {
        columns: ['time', ...TAG_KEYS, ...FIELD_KEYS],
        kinds: ['timestamp', ...TAG_KEYS.map(() => 'text' as const), ...FIELD_KEYS.map(() => 'integer' as const)],
        rows: picked.map(canonicalRow),
      };
    }
    case 'orderby-limit': {
      const groups = bucketed(rows.filter((r) => r.time < (q.endMs ?? Infinity)), MINUTE_MS, (_, b) => String(b), () => ({ max: -1 }), (acc, r) => (acc.max = Math.max(acc.max, r.fields.usage_user)));
      groups.sort((a, b) => b.bucket - a.bucket);
      return {
        columns: ['minute', 'max_usage_user'],
        kinds: ['timestamp', 'integer'],
        rows: groups.slice(0, ORDERBY_LIMIT).map((g) => [g.bucket * 1000, String(g.acc.max)]),
      };
    }
    default:
      throw new Error(`no expectation for ${q.name}`);
  }
}

describe('TSBS query SQL over a cpu table shaped like Arc view', () => {
  const rows = new TsbsCpu({ hosts: HOSTS }).rows(HOSTS * HOURS * INSTANTS_PER_HOUR);
  let instance: DuckDBInstance;
  let connection: DuckDBConnection;

  beforeAll(async () => {
    instance = await DuckDBInstance.create(':memory:', { threads: '1' });
    connection = await instance.connect();
    await connection.run(
      `CREATE TABLE cpu (time TIMESTAMP, ${TAG_KEYS.map((k) => `${k} VARCHAR`).join(', ')}, ${FIELD_KEYS.map((k) => `${k} BIGINT`).join(', ')})`,
    );
    for (let i = 0; i < rows.length; i += 1000) {
      const values = rows
        .slice(i, i + 1000)
        .map((r) => `(epoch_ms(${r.time}), ${TAG_KEYS.map((k) => `'${r.tags[k]}'`).join(', ')}, ${FIELD_KEYS.map((k) => r.fields[k]).join(', ')})`);
      await connection.run(`INSERT INTO cpu VALUES ${values.join(', ')}`);
    }
  });
  afterAll(() => {
    connection.closeSync();
    instance.closeSync();
  });

  it.each([...QUERY_NAMES])('%s answers what TSBS asks', async (name: QueryName) => {
    const gen = new TsbsQueryGenerator({ hosts: HOSTS, hours: HOURS, seed: 123 });
    for (let i = 0; i < 3; i++) {
      const q = gen.next(name);
      const reader = await connection.runAndReadAll(q.sql);
      const got = answerFromDuckDB(reader.columnNames(), reader.columnTypes().map(String), reader.getRows());
      const want = expectedAnswer(q, rows);
      expect(want.rows.length, q.sql).toBeGreaterThan(0);
      expect(compareAnswers(want, got, q.ordered), q.sql).toBeNull();
    }
  });
});

describe('answer comparison (--verify)', () => {
  const duck = answerFromDuckDB(
    ['minute', 'hostname', 'n', 'mean'],
    ['TIMESTAMP', 'VARCHAR', 'BIGINT', 'DOUBLE'],
    [
      [{ micros: 1451606400000000n }, 'host_0', 9007199254740993n, 1.5],
      [{ micros: 1451606460000123n }, 'host_1', 3n, Number.NaN],
    ],
  );

  it('reads Arc JSON answers: RFC 3339 with microseconds, big integers as text, NaN as null', () => {
    expect(rfc3339Micros('2016-01-01T00:01:00.000123Z')).toBe(1451606460000123);
    expect(rfc3339Micros('2016-01-01T00:00:00Z')).toBe(1451606400000000);
    expect(rfc3339Micros('2016-01-01 00:00:00')).toBeNull();
    const arc = answerFromArcJson(
      {
        columns: ['minute', 'hostname', 'n', 'mean'],
        data: [
          ['2016-01-01T00:00:00Z', 'host_0', '9007199254740993', 1.5],
          ['2016-01-01T00:01:00.000123Z', 'host_1', 3, null],
        ],
      },
      duck.kinds,
    );
    expect(compareAnswers(duck, arc, true)).toBeNull();
  });

  it('names the first wrong value, a wrong row count, wrong columns and a wrong order', () => {
    const json = (data: unknown[][], columns = ['minute', 'hostname', 'n', 'mean']) => answerFromArcJson({ columns, data }, duck.kinds);
    const good = [
      ['2016-01-01T00:00:00Z', 'host_0', '9007199254740993', 1.5],
      ['2016-01-01T00:01:00.000123Z', 'host_1', 3, null],
    ];
    expect(compareAnswers(duck, json([good[0]!, ['2016-01-01T00:01:00.000123Z', 'host_1', 4, null]]), true)).toBe(
      'row 1 column n: expected "3", got "4"',
    );
    expect(compareAnswers(duck, json([good[0]!, ['2016-01-01T00:01:00Z', 'host_1', 3, null]]), true)).toMatch(/row 1 column minute/);
    expect(compareAnswers(duck, json([good[0]!, [...good[0]!.slice(0, 3), 1.5000001]]), true)).toMatch(/row 1 column minute/);
    expect(compareAnswers(duck, json([good[0]!, [good[1]![0], 'host_1', 3, 2]]), true)).toBe('row 1 column mean: expected null, got 2');
    expect(compareAnswers(duck, json([good[0]!]), true)).toBe('row count differs: expected 2, got 1');
    expect(compareAnswers(duck, json(good, ['minute', 'host', 'n', 'mean']), true)).toMatch(/^columns differ/);
    const reversed = json([good[1]!, good[0]!]);
    expect(compareAnswers(duck, reversed, true)).not.toBeNull();
    expect(compareAnswers(duck, reversed, false)).toBeNull(); // multisets when the SQL fixes no order
    // floats within the relative tolerance are equal, beyond it they are not
    expect(compareAnswers(duck, json([[...good[0]!.slice(0, 3), 1.5 * (1 + 1e-12)], good[1]!]), true)).toBeNull();
    expect(compareAnswers(duck, json([[...good[0]!.slice(0, 3), 1.5 * (1 + 1e-6)], good[1]!]), true)).toMatch(/column mean/);
  });
});

describe('query.mjs options and summary', () => {
  it('--smoke is 10 hosts x 1 h, 2 runs, verified; --url needs --data-dir for in-process runs', () => {
    expect(parseOptions(['--spawn', '--smoke'])).toMatchObject({ hosts: 10, hours: 1, runs: 2, verify: true, local: true });
    expect(parseOptions(['--spawn'])).toMatchObject({ hosts: 100, hours: 12, runs: 20, warmup: 1, verify: false, format: 'columnar' });
    expect(parseOptions(['--spawn', '--smoke', '--runs', '3', '--format', 'lp'])).toMatchObject({ runs: 3, format: 'lp' });
    expect(() => parseOptions(['--url', 'http://x'])).toThrow(UsageError);
    expect(parseOptions(['--url', 'http://x', '--no-local'])).toMatchObject({ local: false, dataDir: null });
    expect(() => parseOptions(['--spawn', '--verify', '--no-local'])).toThrow(/--verify needs/);
    expect(() => parseOptions(['--spawn', '--hosts', '4'])).toThrow(/--hosts must be a number >= 8/);
    expect(() => parseOptions(['--spawn', '--format', 'rows'])).toThrow(/--format must be one of columnar, lp/);
    expect(() => parseOptions(['--spawn', '--queries', 'nope'])).toThrow(/unknown query "nope"/);
    expect(parseOptions(['--help'])).toBeNull();
  });

  it('lists the queries slower than each reference and judges the target only at full scale', () => {
    const line = (query: QueryName, median: number) => ({ query, median_ms: median, errors: 0, cache_hits: 0, verified: true, duckdb_in_process_ms: 1, reference_ms: REFERENCE_MS[query] });
    // InfluxDB and ClickHouse medians + 1 ms / - 0.1 ms
    const lines = QUERY_NAMES.map((q, i) => line(q, i < 2 ? REFERENCE_MS[q].influxdb_1_6_7 + 1 : REFERENCE_MS[q].clickhouse_18_16 - 0.1));
    const full = parseOptions(['--spawn', '--verify'])!;
    const s = summaryLine(full, lines, { rows: 432000 });
    expect(s.slower_than_influxdb_1_6_7).toEqual(['single-groupby-1-1-1', 'single-groupby-5-1-12']);
    expect(s.slower_than_clickhouse_18_16).toEqual(['single-groupby-1-1-1', 'single-groupby-5-1-12']);
    expect(s.at_most_clickhouse_18_16).toBe(6);
    expect(s.target_met).toBe(false);
    const fast = QUERY_NAMES.map((q, i) => line(q, i < 2 ? REFERENCE_MS[q].influxdb_1_6_7 - 1 : REFERENCE_MS[q].clickhouse_18_16));
    expect(summaryLine(full, fast, { rows: 432000 }).target_met).toBe(true);
    expect(summaryLine(parseOptions(['--spawn', '--smoke'])!, fast, { rows: 3600 }).target_met).toBeNull();
  });

  it('reads total time and files opened from an EXPLAIN ANALYZE profile', () => {
    const text = '││ Total Time: 0.0138s ││\n│ Total Files Read: 12 │\n│ Total Files Read: 7 │';
    expect(profileFigures(text)).toEqual({ total_ms: 13.8, files_read: 19 });
    expect(profileFigures('nothing')).toEqual({ total_ms: null, files_read: null });
  });
});
