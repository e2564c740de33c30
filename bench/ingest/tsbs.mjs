// @ts-check
// Deterministic TSBS "cpu-only" data (see docs/benchmarks.md, "The TSBS cpu-only data") and
// MessagePack encoders for Arc's `POST /write/v2/msgpack` (columnar and row-batch shapes).
//
// Rows come instant-major, host-minor: (t0, host_0), (t0, host_1), ..., (t0, host_{N-1}),
// (t0 + 10 s, host_0), ... Global row r is host `r % N` at `START_MS + floor(r / N) * 10 s`, so
// every row of the (unbounded) stream has a distinct (hostname, time) key.
//
// Determinism: each host has its own PRNG streams (one for its tags, one for its field walks),
// seeded from (seed, host index). Host h's tags and values therefore do not depend on how many
// hosts there are, and the same (seed, hosts) always gives byte-identical output.
import { Packr } from 'msgpackr';

export const START_MS = Date.UTC(2016, 0, 1, 0, 0, 0); // 2016-01-01T00:00:00Z
export const INTERVAL_MS = 10_000;
export const DEFAULT_HOSTS = 100;
export const DEFAULT_SEED = 123;
/** 12 h of 10 s instants: 100 hosts x 4320 = 432,000 rows, the targets' scale (docs/benchmarks.md). */
export const DATASET_INSTANTS = 12 * 360;
export const MEASUREMENT = 'cpu';

/** TSBS devops regions and their datacenters (region + zone letter). */
export const DATACENTERS = /** @type {const} */ ({
  'us-east-1': ['us-east-1a', 'us-east-1b', 'us-east-1c', 'us-east-1e'],
  'us-west-1': ['us-west-1a', 'us-west-1b'],
  'us-west-2': ['us-west-2a', 'us-west-2b', 'us-west-2c'],
  'eu-west-1': ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'],
  'eu-central-1': ['eu-central-1a', 'eu-central-1b'],
  'ap-southeast-1': ['ap-southeast-1a', 'ap-southeast-1b'],
  'ap-southeast-2': ['ap-southeast-2a', 'ap-southeast-2b'],
  'ap-northeast-1': ['ap-northeast-1a', 'ap-northeast-1c'],
  'sa-east-1': ['sa-east-1a', 'sa-east-1b', 'sa-east-1c'],
});
export const REGIONS = /** @type {(keyof typeof DATACENTERS)[]} */ (Object.keys(DATACENTERS));
export const OS_VALUES = ['Ubuntu16.10', 'Ubuntu16.04LTS', 'Ubuntu15.10'];
export const ARCH_VALUES = ['x64', 'x86'];
export const TEAM_VALUES = ['SF', 'NYC', 'LON', 'CHI'];
export const SERVICE_VERSION_VALUES = ['0', '1'];
export const SERVICE_ENVIRONMENT_VALUES = ['production', 'staging', 'test'];
export const RACK_COUNT = 100; // "0".."99"
export const SERVICE_COUNT = 20; // "0".."19"

export const TAG_KEYS = /** @type {const} */ ([
  'hostname',
  'region',
  'datacenter',
  'rack',
  'os',
  'arch',
  'team',
  'service',
  'service_version',
  'service_environment',
]);
export const FIELD_KEYS = /** @type {const} */ ([
  'usage_user',
  'usage_system',
  'usage_idle',
  'usage_nice',
  'usage_iowait',
  'usage_irq',
  'usage_softirq',
  'usage_steal',
  'usage_guest',
  'usage_guest_nice',
]);
export const FIELD_MIN = 0;
export const FIELD_MAX = 100;
/** Each walk step adds an integer drawn uniformly from [-WALK_STEP, WALK_STEP], then clamps. */
export const WALK_STEP = 5;

/** @typedef {Record<(typeof TAG_KEYS)[number], string>} HostTags */
/** @typedef {Record<(typeof FIELD_KEYS)[number], number>} CpuFields */
/** @typedef {{ time: number, tags: HostTags, fields: CpuFields }} CpuRow */
/**
 * A run of consecutive rows in column-major form. `time` is epoch ms, `host` the host index,
 * `fields[k][i]` the value of FIELD_KEYS[k] for row i.
 * @typedef {{ firstRow: number, n: number, time: Float64Array, host: Uint32Array, fields: Uint8Array[] }} CpuChunk
 */

/**
 * mulberry32: small, fast, well-mixed 32-bit PRNG. Returns floats in [0, 1).
 * @param {number} seed
 * @returns {() => number}
 */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Mixes integers into one 32-bit seed (murmur3 finalizer over a running hash).
 * @param {...number} parts
 */
export function mixSeed(...parts) {
  let h = 0x9e3779b9;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/**
 * @template T
 * @param {() => number} rnd
 * @param {readonly T[]} values
 * @returns {T}
 */
function pick(rnd, values) {
  return /** @type {T} */ (values[Math.floor(rnd() * values.length)]);
}

/**
 * The 10 tags of host `hostIndex` (fixed for the whole run).
 * @param {number} hostIndex
 * @param {number} [seed]
 * @returns {HostTags}
 */
export function hostTags(hostIndex, seed = DEFAULT_SEED) {
  const rnd = mulberry32(mixSeed(seed, hostIndex, 1));
  const region = pick(rnd, REGIONS);
  return {
    hostname: `host_${hostIndex}`,
    region,
    datacenter: pick(rnd, DATACENTERS[region]),
    rack: String(Math.floor(rnd() * RACK_COUNT)),
    os: pick(rnd, OS_VALUES),
    arch: pick(rnd, ARCH_VALUES),
    team: pick(rnd, TEAM_VALUES),
    service: String(Math.floor(rnd() * SERVICE_COUNT)),
    service_version: pick(rnd, SERVICE_VERSION_VALUES),
    service_environment: pick(rnd, SERVICE_ENVIRONMENT_VALUES),
  };
}

/** Sequential generator of the TSBS cpu-only row stream (unbounded: the walks just continue). */
export class TsbsCpu {
  /**
   * `intervalMs`: time between instants (TSBS: 10 s; bench/compaction's real-time load: 1 ms).
   * @param {{ hosts?: number, seed?: number, startMs?: number, intervalMs?: number }} [opts]
   */
  constructor(opts = {}) {
    this.hosts = opts.hosts ?? DEFAULT_HOSTS;
    this.seed = opts.seed ?? DEFAULT_SEED;
    this.startMs = opts.startMs ?? START_MS;
    this.intervalMs = opts.intervalMs ?? INTERVAL_MS;
    if (!Number.isInteger(this.hosts) || this.hosts < 1) throw new Error(`hosts must be >= 1, got ${this.hosts}`);
    /** @type {HostTags[]} */
    this.tags = [];
    /** @type {(() => number)[]} */
    this.walkRng = [];
    this.state = new Uint8Array(this.hosts * FIELD_KEYS.length);
    for (let h = 0; h < this.hosts; h++) {
      this.tags.push(hostTags(h, this.seed));
      const rnd = mulberry32(mixSeed(this.seed, h, 2));
      this.walkRng.push(rnd);
      for (let k = 0; k < FIELD_KEYS.length; k++) {
        this.state[h * FIELD_KEYS.length + k] = Math.floor(rnd() * (FIELD_MAX - FIELD_MIN + 1)) + FIELD_MIN;
      }
    }
    /** Index of the next row to produce. */
    this.row = 0;
  }

  /** @param {number} row global row index */
  timeOf(row) {
    return this.startMs + Math.floor(row / this.hosts) * this.intervalMs;
  }

  /**
   * The next `n` rows, column-major.
   * @param {number} n
   * @returns {CpuChunk}
   */
  next(n) {
    const nf = FIELD_KEYS.length;
    const time = new Float64Array(n);
    const host = new Uint32Array(n);
    const fields = FIELD_KEYS.map(() => new Uint8Array(n));
    const firstRow = this.row;
    const span = 2 * WALK_STEP + 1;
    for (let i = 0; i < n; i++) {
      const r = this.row++;
      const h = r % this.hosts;
      const instant = Math.floor(r / this.hosts);
      if (instant > 0) {
        const rnd = /** @type {() => number} */ (this.walkRng[h]);
        for (let k = 0; k < nf; k++) {
          const idx = h * nf + k;
          const v = /** @type {number} */ (this.state[idx]) + Math.floor(rnd() * span) - WALK_STEP;
          this.state[idx] = v < FIELD_MIN ? FIELD_MIN : v > FIELD_MAX ? FIELD_MAX : v;
        }
      }
      time[i] = this.startMs + instant * this.intervalMs;
      host[i] = h;
      for (let k = 0; k < nf; k++) /** @type {Uint8Array} */ (fields[k])[i] = /** @type {number} */ (this.state[h * nf + k]);
    }
    return { firstRow, n, time, host, fields };
  }

  /**
   * Rows as objects (convenient for tests and small tools; the encoders use `next`).
   * @param {number} n
   * @returns {CpuRow[]}
   */
  rows(n) {
    const c = this.next(n);
    /** @type {CpuRow[]} */
    const out = [];
    for (let i = 0; i < n; i++) {
      /** @type {Record<string, number>} */
      const f = {};
      FIELD_KEYS.forEach((key, k) => {
        f[key] = /** @type {number} */ (/** @type {Uint8Array} */ (c.fields[k])[i]);
      });
      out.push({
        time: /** @type {number} */ (c.time[i]),
        tags: /** @type {HostTags} */ (this.tags[/** @type {number} */ (c.host[i])]),
        fields: /** @type {CpuFields} */ (f),
      });
    }
    return out;
  }
}

/**
 * Generator over the row stream, from row 0.
 * @param {{ hosts?: number, seed?: number, startMs?: number, rows?: number }} [opts]
 * @returns {Generator<CpuRow>}
 */
export function* tsbsCpuRows(opts = {}) {
  const gen = new TsbsCpu(opts);
  const total = opts.rows ?? gen.hosts * DATASET_INSTANTS;
  for (let done = 0; done < total; ) {
    const n = Math.min(1024, total - done);
    yield* gen.rows(n);
    done += n;
  }
}

// ---------------------------------------------------------------------------------------------
// Encoders. Times are encoded as BigInt so msgpackr writes them as int64 (0xd3 + 8 bytes): a
// plain JS number above 2^32 would be written as float64, and Arc types columns from the wire
// type. The fixed width also lets the loader re-stamp times in place (see timeOffsets).

const packr = new Packr({ useRecords: false });

/** @typedef {'columnar' | 'rows' | 'lp' | 'json'} WireFormat */
export const FORMATS = /** @type {const} */ (['columnar', 'rows', 'lp', 'json']);

/** Where each format is posted unless --path says otherwise (the database comes from x-arc-database). */
export const DEFAULT_PATHS = /** @type {const} */ ({
  columnar: '/write/v2/msgpack',
  rows: '/write/v2/msgpack',
  lp: '/api/v1/write/line-protocol?precision=ns',
  json: '/write/json',
});

/** The Content-Type each format is sent with. */
export const CONTENT_TYPES = /** @type {const} */ ({
  columnar: 'application/msgpack',
  rows: 'application/msgpack',
  lp: 'text/plain; charset=utf-8',
  json: 'application/json',
});

/**
 * Row shapes: `tsbs` (the 10 tags and 10 int fields above) or `arc-go`, the 5 columns the Go
 * version of Arc benchmarks its columnar MessagePack with (time, host, value, cpu_idle, cpu_user).
 */
export const SHAPES = /** @type {const} */ (['tsbs', 'arc-go']);
/** @typedef {(typeof SHAPES)[number]} RowShape */

/** Formats whose times are decimal digits in the body (re-stamped as text, not as int64). */
export const DECIMAL_TIME_FORMATS = /** @type {readonly WireFormat[]} */ (['lp', 'json']);

/**
 * Line protocol timestamps are nanoseconds written as the 13 digits of the millisecond time plus
 * "000000": 19 digits for every time between 2001 and 2286, so a body can be re-stamped in place.
 */
const LP_MS_DIGITS = 13;
const LP_NS_SUFFIX = '000000';

/**
 * `{"m":"cpu","columns":{"time":[ms...],"hostname":[...],...,"usage_user":[...],...}}`
 * @param {CpuChunk} chunk
 * @param {HostTags[]} tags per host index (TsbsCpu#tags)
 * @returns {Buffer}
 */
export function encodeColumnar(chunk, tags) {
  /** @type {Record<string, unknown[]>} */
  const columns = {};
  const time = new Array(chunk.n);
  for (let i = 0; i < chunk.n; i++) time[i] = BigInt(/** @type {number} */ (chunk.time[i]));
  columns.time = time;
  for (const key of TAG_KEYS) {
    const col = new Array(chunk.n);
    for (let i = 0; i < chunk.n; i++) col[i] = /** @type {HostTags} */ (tags[/** @type {number} */ (chunk.host[i])])[key];
    columns[key] = col;
  }
  FIELD_KEYS.forEach((key, k) => {
    columns[key] = Array.from(/** @type {Uint8Array} */ (chunk.fields[k])); // small ints -> positive fixint
  });
  return Buffer.from(packr.pack({ m: MEASUREMENT, columns }));
}

/**
 * `{"batch":[{"m":"cpu","t":ms,"tags":{all 10 tags, hostname included},"fields":{...}}, ...]}`.
 * No `h` key: Arc adds its own `host` tag ("unknown") to such rows; `hostname` is a normal tag.
 * @param {CpuChunk} chunk
 * @param {HostTags[]} tags
 * @returns {Buffer}
 */
export function encodeRows(chunk, tags) {
  const batch = new Array(chunk.n);
  for (let i = 0; i < chunk.n; i++) {
    /** @type {Record<string, number>} */
    const fields = {};
    for (let k = 0; k < FIELD_KEYS.length; k++) {
      fields[/** @type {string} */ (FIELD_KEYS[k])] = /** @type {number} */ (/** @type {Uint8Array} */ (chunk.fields[k])[i]);
    }
    batch[i] = {
      m: MEASUREMENT,
      t: BigInt(/** @type {number} */ (chunk.time[i])),
      tags: tags[/** @type {number} */ (chunk.host[i])],
      fields,
    };
  }
  return Buffer.from(packr.pack({ batch }));
}

/**
 * InfluxDB line protocol, as TSBS writes it: `cpu,hostname=host_0,region=...,service_environment=...
 * usage_user=58i,...,usage_guest_nice=12i <ns>` per row, one row per line.
 * @param {CpuChunk} chunk
 * @param {HostTags[]} tags
 * @returns {Buffer}
 */
export function encodeLineProtocol(chunk, tags) {
  const lines = new Array(chunk.n);
  for (let i = 0; i < chunk.n; i++) {
    const hostTagSet = /** @type {HostTags} */ (tags[/** @type {number} */ (chunk.host[i])]);
    const tagText = TAG_KEYS.map((key) => `${key}=${hostTagSet[key]}`).join(',');
    const fieldText = FIELD_KEYS.map((key, k) => `${key}=${/** @type {Uint8Array} */ (chunk.fields[k])[i]}i`).join(',');
    const ms = String(/** @type {number} */ (chunk.time[i]));
    if (ms.length !== LP_MS_DIGITS) throw new Error(`time ${ms} ms is not ${LP_MS_DIGITS} digits`);
    lines[i] = `${MEASUREMENT},${tagText} ${fieldText} ${ms}${LP_NS_SUFFIX}\n`;
  }
  return Buffer.from(lines.join(''));
}

/**
 * JSON rows for `POST /write/json`: `{"batch":[{"m":"cpu","t":ms,"tags":{all 10 tags},"fields":{...}}, ...]}`,
 * the msgpack `rows` shape as JSON text. Times are the 13 digits of the millisecond time (Arc
 * infers the unit from the magnitude), so a body can be re-stamped in place; JSON has no integer
 * type, so Arc stores the fields as DOUBLE.
 * @param {CpuChunk} chunk
 * @param {HostTags[]} tags
 * @returns {Buffer}
 */
export function encodeJsonRows(chunk, tags) {
  const rows = new Array(chunk.n);
  for (let i = 0; i < chunk.n; i++) {
    const fieldText = FIELD_KEYS.map((key, k) => `"${key}":${/** @type {Uint8Array} */ (chunk.fields[k])[i]}`).join(',');
    const ms = String(/** @type {number} */ (chunk.time[i]));
    if (ms.length !== LP_MS_DIGITS) throw new Error(`time ${ms} ms is not ${LP_MS_DIGITS} digits`);
    rows[i] = `{"m":"${MEASUREMENT}","t":${ms},"tags":${JSON.stringify(tags[/** @type {number} */ (chunk.host[i])])},"fields":{${fieldText}}}`;
  }
  return Buffer.from(`{"batch":[${rows.join(',')}]}`);
}

/**
 * The Go version of Arc's benchmark row, columnar MessagePack:
 * `{"m":"cpu","columns":{"time":[ms...],"host":["host_0",...],"value":[...],"cpu_idle":[...],"cpu_user":[...]}}`.
 * The three values come from the TSBS walks (usage_system, usage_idle, usage_user) plus 0.5, so
 * that every value is a non-integer and msgpackr writes each as a float64 (Arc types a column
 * from the wire type: a mix of ints and floats would not be one column).
 * @param {CpuChunk} chunk
 * @param {HostTags[]} tags
 * @returns {Buffer}
 */
export function encodeArcGoColumnar(chunk, tags) {
  const time = new Array(chunk.n);
  const host = new Array(chunk.n);
  for (let i = 0; i < chunk.n; i++) {
    time[i] = BigInt(/** @type {number} */ (chunk.time[i]));
    host[i] = /** @type {HostTags} */ (tags[/** @type {number} */ (chunk.host[i])]).hostname;
  }
  /** @param {number} k */
  const floats = (k) => Array.from(/** @type {Uint8Array} */ (chunk.fields[k]), (v) => v + ARC_GO_VALUE_OFFSET);
  const columns = {
    time,
    host,
    value: floats(FIELD_KEYS.indexOf('usage_system')),
    cpu_idle: floats(FIELD_KEYS.indexOf('usage_idle')),
    cpu_user: floats(FIELD_KEYS.indexOf('usage_user')),
  };
  return Buffer.from(packr.pack({ m: MEASUREMENT, columns }));
}

/** Added to the arc-go shape's values so that each is a non-integer (encoded as float64). */
const ARC_GO_VALUE_OFFSET = 0.5;

/**
 * @param {WireFormat} format
 * @param {CpuChunk} chunk
 * @param {HostTags[]} tags
 * @param {RowShape} [shape] `arc-go` only with `columnar`
 */
export function encode(format, chunk, tags, shape = 'tsbs') {
  if (shape === 'arc-go') {
    if (format !== 'columnar') throw new Error(`the arc-go shape is columnar msgpack only, not ${format}`);
    return encodeArcGoColumnar(chunk, tags);
  }
  if (format === 'columnar') return encodeColumnar(chunk, tags);
  if (format === 'rows') return encodeRows(chunk, tags);
  if (format === 'lp') return encodeLineProtocol(chunk, tags);
  if (format === 'json') return encodeJsonRows(chunk, tags);
  throw new Error(`unknown format ${String(format)} (expected ${FORMATS.join('|')})`);
}

/**
 * Byte offsets, inside `body`, of the 8-byte big-endian payload of each row's int64 time (in row
 * order), so a body can be re-stamped in place without re-encoding. Throws if the layout is not
 * the one the encoders above produce.
 * @param {Uint8Array} body
 * @param {WireFormat} format
 * @param {number} n rows in the body
 * @returns {Int32Array}
 */
export function timeOffsets(body, format, n) {
  const out = new Int32Array(n);
  if (format === 'columnar') {
    const key = Buffer.from([0xa4, 0x74, 0x69, 0x6d, 0x65]); // fixstr "time"
    let p = Buffer.from(body.buffer, body.byteOffset, body.byteLength).indexOf(key);
    if (p < 0) throw new Error('columnar body has no "time" key');
    p += key.length;
    const h = /** @type {number} */ (body[p]);
    let len;
    if (h >= 0x90 && h <= 0x9f) (len = h & 0x0f), (p += 1);
    else if (h === 0xdc) (len = (/** @type {number} */ (body[p + 1]) << 8) | /** @type {number} */ (body[p + 2])), (p += 3);
    else if (h === 0xdd) (len = new DataView(body.buffer, body.byteOffset).getUint32(p + 1)), (p += 5);
    else throw new Error(`"time" is not an array (byte 0x${h.toString(16)})`);
    if (len !== n) throw new Error(`"time" has ${len} values, expected ${n}`);
    for (let i = 0; i < n; i++, p += 9) {
      if (body[p] !== 0xd3) throw new Error(`time[${i}] is not an int64`);
      out[i] = p + 1;
    }
    return out;
  }
  if (format === 'rows') {
    // Each row map starts `"m" "cpu" "t" <int64>`; find the fixstr "t" followed by 0xd3.
    let p = 0;
    for (let i = 0; i < n; i++) {
      for (;;) {
        if (p + 11 > body.length) throw new Error(`found ${i} row times, expected ${n}`);
        if (body[p] === 0xa1 && body[p + 1] === 0x74 && body[p + 2] === 0xd3) break;
        p++;
      }
      out[i] = p + 3;
      p += 11;
    }
    return out;
  }
  if (format === 'lp') {
    // The timestamp is the last 19 characters before each newline; point at its 13 ms digits.
    let lineEnd = -1;
    for (let i = 0; i < n; i++) {
      lineEnd = Buffer.from(body.buffer, body.byteOffset, body.byteLength).indexOf(0x0a, lineEnd + 1);
      if (lineEnd < 0) throw new Error(`found ${i} lines, expected ${n}`);
      out[i] = lineEnd - LP_MS_DIGITS - LP_NS_SUFFIX.length;
    }
    return out;
  }
  if (format === 'json') {
    // Each row object is `{"m":"cpu","t":` then the 13 ms digits.
    const key = Buffer.from(`{"m":"${MEASUREMENT}","t":`);
    const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    let p = -1;
    for (let i = 0; i < n; i++) {
      p = text.indexOf(key, p + 1);
      if (p < 0) throw new Error(`found ${i} row times, expected ${n}`);
      out[i] = p + key.length;
    }
    return out;
  }
  throw new Error(`unknown format ${String(format)}`);
}

/**
 * Writes `ms` as its 13 decimal digits at `offset` (a line protocol timestamp re-stamped in place).
 * @param {Uint8Array} bytes
 * @param {number} offset
 * @param {number} ms
 */
export function writeLineProtocolMs(bytes, offset, ms) {
  let rest = ms;
  for (let digit = LP_MS_DIGITS - 1; digit >= 0; digit--) {
    bytes[offset + digit] = 0x30 + (rest % 10);
    rest = Math.floor(rest / 10);
  }
  if (rest !== 0) throw new Error(`time ${ms} ms does not fit ${LP_MS_DIGITS} digits`);
}

/**
 * Writes `ms` as a big-endian int64 at `offset` (ms < 2^53).
 * @param {DataView} view
 * @param {number} offset
 * @param {number} ms
 */
export function writeInt64Ms(view, offset, ms) {
  const hi = Math.floor(ms / 4294967296);
  view.setUint32(offset, hi);
  view.setUint32(offset + 4, ms - hi * 4294967296);
}
