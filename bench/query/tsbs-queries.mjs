// @ts-check
// The TSBS "cpu-only" queries of docs/benchmarks.md as DuckDB SQL over Arc's `cpu` view, with
// random parameters drawn the way TSBS draws them (random hosts without repetition, random time
// windows inside the dataset), and the reference medians measured for other systems on this machine kind.
//
// Columns of `cpu` (written by bench/ingest/tsbs.mjs): time TIMESTAMP, the 10 tags (VARCHAR) and
// the 10 fields usage_user ... usage_guest_nice (BIGINT).
import { FIELD_KEYS, INTERVAL_MS, START_MS, TAG_KEYS, mixSeed, mulberry32 } from '../ingest/tsbs.mjs';

export const HOUR_MS = 3_600_000;
export const MINUTE_MS = 60_000;
/** Instants (one row per host each) in an hour of TSBS data: one every 10 s. */
export const INSTANTS_PER_HOUR = HOUR_MS / INTERVAL_MS;
/** The targets' scale (docs/benchmarks.md): 100 hosts x 12 h = 432,000 rows. */
export const FULL_SCALE = /** @type {const} */ ({ hosts: 100, hours: 12 });
/** CI smoke scale: 10 hosts x 1 h = 3,600 rows. */
export const SMOKE_SCALE = /** @type {const} */ ({ hosts: 10, hours: 1 });

/** TSBS query names, in the order of docs/benchmarks.md. */
export const QUERY_NAMES = /** @type {const} */ ([
  'single-groupby-1-1-1',
  'single-groupby-5-1-12',
  'cpu-max-all-8',
  'double-groupby-1',
  'double-groupby-all',
  'high-cpu-all',
  'lastpoint',
  'groupby-orderby-limit',
]);
/**
 * Variants that are not TSBS queries (never in `all`): `lastpoint-cache` asks lastpoint's question
 * of Arc's last-value cache (`last_cache('cpu')`, created by the bench: LAST_CACHE_SPEC), and is
 * verified against lastpoint's SQL run in-process.
 */
export const VARIANT_NAMES = /** @type {const} */ (['lastpoint-cache']);
/** @typedef {(typeof QUERY_NAMES)[number] | (typeof VARIANT_NAMES)[number]} QueryName */

/** The last-value cache lastpoint-cache reads: one row per hostname, every other column. */
export const LAST_CACHE_SPEC = /** @type {const} */ ({ table: 'cpu', name: 'lastpoint', key_columns: ['hostname'] });

/**
 * Median ms per query measured on the project's machine over the same 432,000 rows, request to
 * last byte (DuckDB in-process: no HTTP, over hourly Parquet files), measured on this machine
 * kind on 2026-11-24. lastpoint's DuckDB figure is the
 * `(hostname, time) IN (SELECT hostname, max(time) ...)` form used here (`DISTINCT ON`: 116.6 ms).
 * @type {Readonly<Record<QueryName, { influxdb_1_6_7: number, clickhouse_18_16: number, duckdb_in_process: number }>>}
 */
export const REFERENCE_MS = {
  'single-groupby-1-1-1': { influxdb_1_6_7: 2.5, clickhouse_18_16: 2.6, duckdb_in_process: 9.3 },
  'single-groupby-5-1-12': { influxdb_1_6_7: 16.6, clickhouse_18_16: 6.5, duckdb_in_process: 14.8 },
  'cpu-max-all-8': { influxdb_1_6_7: 39.8, clickhouse_18_16: 22.3, duckdb_in_process: 17.0 },
  'double-groupby-1': { influxdb_1_6_7: 103.8, clickhouse_18_16: 31.6, duckdb_in_process: 14.4 },
  'double-groupby-all': { influxdb_1_6_7: 691.0, clickhouse_18_16: 63.8, duckdb_in_process: 26.3 },
  'high-cpu-all': { influxdb_1_6_7: 597.7, clickhouse_18_16: 119.4, duckdb_in_process: 79.5 },
  lastpoint: { influxdb_1_6_7: 113.1, clickhouse_18_16: 13.1, duckdb_in_process: 19.7 },
  'groupby-orderby-limit': { influxdb_1_6_7: 87.9, clickhouse_18_16: 6.9, duckdb_in_process: 9.2 },
  // The same question as lastpoint, so the same references (after the TSBS queries: not one of them).
  'lastpoint-cache': { influxdb_1_6_7: 113.1, clickhouse_18_16: 13.1, duckdb_in_process: 19.7 },
};

/** The target (docs/benchmarks.md): each query faster than InfluxDB 1.6.7, and at most ClickHouse 18.16's time on 6 of 8. */
export const TARGET_AT_MOST_CLICKHOUSE = 6;

/** The 5 fields of TSBS's `single-groupby-5-*` queries (its first 5 cpu metrics). */
const FIVE_FIELDS = FIELD_KEYS.slice(0, 5);
/** high-cpu-*: rows whose usage_user is above this. */
export const HIGH_CPU_THRESHOLD = 90;
/** groupby-orderby-limit: the newest minutes answered. */
export const ORDERBY_LIMIT = 5;

/**
 * What each query reads, as TSBS defines it: fields, hosts (0 = all hosts, no host filter) and the
 * window in hours (the window is clamped to the dataset when the dataset is shorter).
 * @type {Readonly<Record<QueryName, { kind: string, fields: readonly string[], hosts: number, hours: number }>>}
 */
export const QUERY_SHAPES = {
  'single-groupby-1-1-1': { kind: 'max-per-minute', fields: ['usage_user'], hosts: 1, hours: 1 },
  'single-groupby-5-1-12': { kind: 'max-per-minute', fields: FIVE_FIELDS, hosts: 1, hours: 12 },
  'cpu-max-all-8': { kind: 'max-per-hour', fields: FIELD_KEYS, hosts: 8, hours: 8 },
  'double-groupby-1': { kind: 'avg-per-host-hour', fields: ['usage_user'], hosts: 0, hours: 12 },
  'double-groupby-all': { kind: 'avg-per-host-hour', fields: FIELD_KEYS, hosts: 0, hours: 12 },
  'high-cpu-all': { kind: 'high-cpu', fields: ['usage_user'], hosts: 0, hours: 12 },
  lastpoint: { kind: 'lastpoint', fields: [], hosts: 0, hours: 0 },
  'lastpoint-cache': { kind: 'lastpoint-cache', fields: [], hosts: 0, hours: 0 },
  'groupby-orderby-limit': { kind: 'orderby-limit', fields: ['usage_user'], hosts: 0, hours: 1 },
};

/** The most hosts one query names (cpu-max-all-8): a dataset needs at least this many. */
export const HOSTS_MIN = Math.max(...Object.values(QUERY_SHAPES).map((shape) => shape.hosts));

/**
 * One generated query. `ordered` is false when the SQL fixes no row order (TSBS's high-cpu-all):
 * answers are then compared as multisets.
 * `localSql`, when given, is what the in-process DuckDB runs instead of `sql` (which it cannot run).
 * @typedef {{ name: QueryName, sql: string, localSql?: string, ordered: boolean, startMs: number | null, endMs: number | null, hosts: string[] }} GeneratedQuery
 */

/**
 * `TIMESTAMP 'YYYY-MM-DD HH:MM:SS[.mmm]'` of a UTC epoch-ms instant.
 * @param {number} ms
 */
export function timestampLiteral(ms) {
  const iso = new Date(ms).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  const whole = iso.endsWith('.000Z') ? iso.slice(0, 19) : iso.slice(0, 23);
  return `TIMESTAMP '${whole.replace('T', ' ')}'`;
}

/** @param {string[]} hosts */
function hostPredicate(hosts) {
  if (hosts.length === 1) return `hostname = '${hosts[0]}'`;
  return `hostname IN (${hosts.map((h) => `'${h}'`).join(', ')})`;
}

/**
 * @param {number} startMs
 * @param {number} endMs
 */
function timeRange(startMs, endMs) {
  return `time >= ${timestampLiteral(startMs)} AND time < ${timestampLiteral(endMs)}`;
}

/**
 * The SQL of one query for given parameters (exported for tests).
 * @param {QueryName} name
 * @param {{ hosts: string[], startMs: number, endMs: number }} p
 * @returns {{ sql: string, localSql?: string, ordered: boolean }}
 */
export function querySql(name, p) {
  const shape = QUERY_SHAPES[name];
  switch (shape.kind) {
    case 'max-per-minute':
    case 'max-per-hour': {
      const bucket = shape.kind === 'max-per-minute' ? 'minute' : 'hour';
      const maxes = shape.fields.map((f) => `max(${f}) AS max_${f}`).join(', ');
      return {
        sql:
          `SELECT time_bucket(INTERVAL 1 ${bucket}, time) AS ${bucket}, ${maxes} FROM cpu ` +
          `WHERE ${hostPredicate(p.hosts)} AND ${timeRange(p.startMs, p.endMs)} GROUP BY ${bucket} ORDER BY ${bucket}`,
        ordered: true,
      };
    }
    case 'avg-per-host-hour': {
      const means = shape.fields.map((f) => `avg(${f}) AS mean_${f}`).join(', ');
      return {
        sql:
          `SELECT time_bucket(INTERVAL 1 hour, time) AS hour, hostname, ${means} FROM cpu ` +
          `WHERE ${timeRange(p.startMs, p.endMs)} GROUP BY hour, hostname ORDER BY hour, hostname`,
        ordered: true,
      };
    }
    case 'high-cpu':
      // TSBS asks for the rows in no particular order.
      return { sql: `SELECT * FROM cpu WHERE usage_user > ${HIGH_CPU_THRESHOLD} AND ${timeRange(p.startMs, p.endMs)}`, ordered: false };
    case 'lastpoint':
      return {
        sql: 'SELECT * FROM cpu WHERE (hostname, time) IN (SELECT hostname, max(time) FROM cpu GROUP BY hostname) ORDER BY hostname',
        ordered: true,
      };
    case 'lastpoint-cache': {
      // Named columns: the cache answers its key first and `time` last.
      const columns = ['time', ...TAG_KEYS, ...FIELD_KEYS].join(', ');
      return {
        sql: `SELECT ${columns} FROM last_cache('${LAST_CACHE_SPEC.table}', '${LAST_CACHE_SPEC.name}') ORDER BY hostname`,
        localSql: `SELECT ${columns} FROM cpu WHERE (hostname, time) IN (SELECT hostname, max(time) FROM cpu GROUP BY hostname) ORDER BY hostname`,
        ordered: true,
      };
    }
    case 'orderby-limit':
      // As TSBS writes it: only an upper time bound; the engine must find the newest minutes.
      return {
        sql:
          `SELECT time_bucket(INTERVAL 1 minute, time) AS minute, max(usage_user) AS max_usage_user FROM cpu ` +
          `WHERE time < ${timestampLiteral(p.endMs)} GROUP BY minute ORDER BY minute DESC LIMIT ${ORDERBY_LIMIT}`,
        ordered: true,
      };
    default:
      throw new Error(`query ${name}: unknown shape ${shape.kind}`);
  }
}

/**
 * Random parameters per query, seeded: the same (seed, hosts, hours) gives the same sequence of
 * SQL texts for a query whatever other queries run. Like TSBS, hosts are drawn without
 * repetition, and a window of `w` hours starts uniformly in [dataset start, dataset end - w]
 * (here on whole seconds); groupby-orderby-limit's bound is the end of a random 1 h window.
 */
export class TsbsQueryGenerator {
  /** @param {{ hosts: number, hours: number, seed: number, startMs?: number }} o */
  constructor(o) {
    if (!Number.isInteger(o.hosts) || o.hosts < HOSTS_MIN) throw new Error(`hosts must be an integer >= ${HOSTS_MIN}, got ${o.hosts}`);
    if (!Number.isInteger(o.hours) || o.hours < 1) throw new Error(`hours must be an integer >= 1, got ${o.hours}`);
    this.hosts = o.hosts;
    this.hours = o.hours;
    this.seed = o.seed;
    this.startMs = o.startMs ?? START_MS;
    /** Exclusive end of the dataset: its last row is at endMs - 10 s. */
    this.endMs = this.startMs + o.hours * HOUR_MS;
    /** @type {Map<QueryName, () => number>} */
    this.rngs = new Map();
  }

  /** @param {QueryName} name */
  rng(name) {
    let rnd = this.rngs.get(name);
    if (rnd === undefined) {
      const index = [...QUERY_NAMES, ...VARIANT_NAMES].indexOf(name);
      if (index < 0) throw new Error(`unknown query ${name} (expected one of ${[...QUERY_NAMES, ...VARIANT_NAMES].join(', ')})`);
      rnd = mulberry32(mixSeed(this.seed, index, 3));
      this.rngs.set(name, rnd);
    }
    return rnd;
  }

  /**
   * `count` distinct host names, as TSBS's getRandomHosts (a partial Fisher-Yates shuffle).
   * @param {() => number} rnd
   * @param {number} count
   */
  randomHosts(rnd, count) {
    const ids = Array.from({ length: this.hosts }, (_, i) => i);
    for (let i = 0; i < count; i++) {
      const j = i + Math.floor(rnd() * (this.hosts - i));
      const picked = /** @type {number} */ (ids[j]);
      ids[j] = /** @type {number} */ (ids[i]);
      ids[i] = picked;
    }
    return ids.slice(0, count).map((i) => `host_${i}`);
  }

  /**
   * A window of `hours` (clamped to the dataset) starting at a random whole second.
   * @param {() => number} rnd
   * @param {number} hours
   */
  randomWindow(rnd, hours) {
    const spanMs = Math.min(hours * HOUR_MS, this.endMs - this.startMs);
    const slackS = (this.endMs - this.startMs - spanMs) / 1000;
    const startMs = this.startMs + Math.floor(rnd() * (slackS + 1)) * 1000;
    return { startMs, endMs: startMs + spanMs };
  }

  /**
   * The next query `name` with fresh random parameters.
   * @param {QueryName} name
   * @returns {GeneratedQuery}
   */
  next(name) {
    const rnd = this.rng(name);
    const shape = QUERY_SHAPES[name];
    const hosts = shape.hosts > 0 ? this.randomHosts(rnd, shape.hosts) : [];
    const window = shape.hours > 0 ? this.randomWindow(rnd, shape.hours) : null;
    const startMs = window?.startMs ?? this.startMs;
    const endMs = window?.endMs ?? this.endMs;
    const { sql, ordered, localSql } = querySql(name, { hosts, startMs, endMs });
    return {
      name,
      sql,
      ...(localSql === undefined ? {} : { localSql }),
      ordered,
      startMs: shape.kind === 'orderby-limit' || !window ? null : startMs,
      endMs: window ? endMs : null,
      hosts,
    };
  }
}

/**
 * Parses a `--queries` list: comma-separated TSBS names, or `all`.
 * @param {string} text
 * @returns {QueryName[]}
 */
export function parseQueryList(text) {
  if (text.trim() === 'all') return [...QUERY_NAMES];
  const names = text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (names.length === 0) throw new Error('no query named (expected a comma-separated list or "all")');
  const known = [...QUERY_NAMES, ...VARIANT_NAMES];
  for (const name of names) {
    if (!(/** @type {readonly string[]} */ (known).includes(name))) {
      throw new Error(`unknown query "${name}" (expected one of ${known.join(', ')})`);
    }
  }
  return /** @type {QueryName[]} */ (names);
}
