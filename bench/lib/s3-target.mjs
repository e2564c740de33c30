// @ts-check
// --storage local|s3 for the bench/ scripts that spawn Arc: the options, the server environment of a
// node storing in an S3 bucket under a prefix of its own, and what the test S3 server
// (scripts/s3-server.sh, a Ceph RADOS Gateway on this machine) tells about a run: the requests a
// node made (counted from the gateway's access log) and the CPU its daemons spent (from /proc).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from './cli.mjs';

export const STORAGES = /** @type {const} */ (['local', 's3']);

/** Arc's Parquet files under the data dir: `arc/` on local disk, the cache (`cache/`) on S3. */
export const PARQUET_SUBDIRS = { local: 'arc', s3: 'cache' };

/** The gateway's log and pid files inside the test server's directory (scripts/s3-server.sh). */
const RGW_LOG = path.join('log', 'client.rgw.a.log');
const DAEMON_PID_FILES = ['rgw.pid', 'osd.pid', 'mon.pid'];

/** The parseArgs options every script with --storage takes. */
export const STORAGE_ARG_OPTIONS = /** @type {const} */ ({
  storage: { type: 'string', default: 'local' },
  's3-endpoint': { type: 'string' },
  's3-access-key': { type: 'string' },
  's3-secret-key': { type: 'string' },
  's3-bucket': { type: 'string' },
  's3-region': { type: 'string' },
  's3-prefix': { type: 'string' },
  's3-server-dir': { type: 'string' },
});

export const STORAGE_USAGE = `  --storage local|s3    with --spawn: where the spawned server keeps its Parquet files (default
                        local); s3 stores in a bucket (storage.backend = "minio") under a fresh
                        prefix per spawned server, so runs never see each other's objects
  --s3-endpoint URL     S3 endpoint (default $ARC_TEST_S3_ENDPOINT, as scripts/s3-server.sh env prints)
  --s3-access-key K     (default $ARC_TEST_S3_ACCESS_KEY)
  --s3-secret-key K     (default $ARC_TEST_S3_SECRET_KEY)
  --s3-bucket B         (default $ARC_TEST_S3_BUCKET, else arc-test)
  --s3-region R         (default $ARC_TEST_S3_REGION, else us-east-1)
  --s3-prefix P         start of the per-run prefix (default bench-); a unique suffix is added
  --s3-server-dir DIR   the test S3 server's directory (scripts/s3-server.sh start DIR; default
                        $ARC_TEST_S3_DIR): counts the node's S3 requests from the gateway's log and
                        the gateway daemons' CPU (fields null without it)`;

/**
 * @typedef {{ storage: 'local' | 's3', s3: { endpoint: string, accessKey: string, secretKey: string,
 *   bucket: string, region: string, prefixBase: string } | null, s3ServerDir: string | null }} StorageOptions
 */

/**
 * The storage options from parseArgs values (STORAGE_ARG_OPTIONS), the S3 ones falling back on the
 * ARC_TEST_S3_* variables of `env`.
 * @param {Record<string, unknown>} values
 * @param {boolean} spawn
 * @param {Record<string, string | undefined>} env
 * @returns {StorageOptions}
 */
export function parseStorageOptions(values, spawn, env = process.env) {
  const storage = /** @type {'local' | 's3'} */ (String(values.storage));
  if (!STORAGES.includes(storage)) throw new UsageError(`--storage must be one of ${STORAGES.join(', ')}, got ${values.storage}`);
  /** @param {string} name */
  const given = (name) => (typeof values[name] === 'string' ? /** @type {string} */ (values[name]) : undefined);
  const serverDir = given('s3-server-dir') ?? env.ARC_TEST_S3_DIR;
  if (storage === 'local') {
    const s3Only = Object.keys(STORAGE_ARG_OPTIONS).filter((k) => k.startsWith('s3-') && given(k) !== undefined);
    if (s3Only.length > 0) throw new UsageError(`--${s3Only[0]} needs --storage s3`);
    return { storage, s3: null, s3ServerDir: null };
  }
  if (!spawn) throw new UsageError('--storage s3 needs --spawn (a running server has its own [storage] settings)');
  const endpoint = given('s3-endpoint') ?? env.ARC_TEST_S3_ENDPOINT ?? '';
  if (endpoint === '') throw new UsageError('--storage s3 needs --s3-endpoint (or $ARC_TEST_S3_ENDPOINT: eval "$(scripts/s3-server.sh env)")');
  const prefixBase = given('s3-prefix') ?? 'bench-';
  if (!/^[A-Za-z0-9._-]*$/.test(prefixBase)) throw new UsageError(`--s3-prefix may hold only letters, digits, '.', '_' and '-', got ${prefixBase}`);
  return {
    storage,
    s3: {
      endpoint,
      accessKey: given('s3-access-key') ?? env.ARC_TEST_S3_ACCESS_KEY ?? 'arc-test-access',
      secretKey: given('s3-secret-key') ?? env.ARC_TEST_S3_SECRET_KEY ?? 'arc-test-secret-key-0123456789',
      bucket: given('s3-bucket') ?? env.ARC_TEST_S3_BUCKET ?? 'arc-test',
      region: given('s3-region') ?? env.ARC_TEST_S3_REGION ?? 'us-east-1',
      prefixBase,
    },
    s3ServerDir: serverDir === undefined || serverDir === '' ? null : path.resolve(serverDir),
  };
}

/**
 * A prefix no other run uses (time and random bytes), ending in '/'. Its text without the slash
 * also names the run's objects in the gateway's log, where listings URL-encode the slash.
 * @param {string} base
 * @param {string} label
 */
export function uniquePrefix(base, label) {
  return `${base}${label}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}/`;
}

/**
 * The spawned server's environment for `o.storage` (explicitly local for local, so an inherited
 * ARC_STORAGE_BACKEND does not turn a local run into an S3 one).
 * @param {StorageOptions} o
 * @param {string | null} prefix required for s3
 * @returns {Record<string, string>}
 */
export function storageEnv(o, prefix) {
  if (o.s3 === null) return { ARC_STORAGE_BACKEND: 'local' };
  if (prefix === null) throw new Error('an S3 node needs its prefix');
  return {
    ARC_STORAGE_BACKEND: 'minio',
    ARC_STORAGE_S3_ENDPOINT: o.s3.endpoint,
    ARC_STORAGE_S3_ACCESS_KEY: o.s3.accessKey,
    ARC_STORAGE_S3_SECRET_KEY: o.s3.secretKey,
    ARC_STORAGE_S3_BUCKET: o.s3.bucket,
    ARC_STORAGE_S3_REGION: o.s3.region,
    ARC_STORAGE_S3_PREFIX: prefix,
  };
}

// ---------------------------------------------------------------------------------------------
// Requests, from the gateway's access log

export const REQUEST_KINDS = /** @type {const} */ (['PUT', 'GET', 'HEAD', 'LIST', 'DELETE', 'POST']);

/** `beast: 0x..: 127.0.0.1 - user [05/Dec/2026:13:27:34.530 +0000] "PUT /bucket/key HTTP/1.1" 200 ...` */
const ACCESS_LINE = /beast: \S+ \S+ - \S+ \[(\d\d)\/(\w{3})\/(\d{4}):(\d\d):(\d\d):(\d\d)\.(\d{3}) \+0000\] "(\w+) (\S+) HTTP\/[\d.]+" (\d{3})/;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * One access line of the gateway: its start time (ms), kind (a LIST is a GET of the bucket with
 * `list-type=`; multipart parts are PUTs, their start and end POSTs), target and status; null for
 * other lines.
 * @param {string} line
 */
export function parseAccessLine(line) {
  const m = ACCESS_LINE.exec(line);
  if (!m) return null;
  const [, dd, mon, yyyy, hh, mi, ss, ms, method, target, status] = /** @type {string[]} */ (m);
  const atMs = Date.UTC(Number(yyyy), MONTHS.indexOf(/** @type {string} */ (mon)), Number(dd), Number(hh), Number(mi), Number(ss), Number(ms));
  const kind = method === 'GET' && /[?&]list-type=/.test(/** @type {string} */ (target)) ? 'LIST' : /** @type {string} */ (method);
  return { atMs, kind, target: /** @type {string} */ (target), status: Number(status) };
}

/**
 * Counts of the gateway's requests whose target names `prefix` and that started in [fromMs, toMs],
 * by kind, and their total and rate over the window.
 * @param {string} text lines of the gateway's log
 * @param {string} prefix the node's prefix (with or without its trailing '/')
 * @param {number} fromMs
 * @param {number} toMs
 */
export function countRequests(text, prefix, fromMs, toMs) {
  const token = prefix.replace(/\/$/, '');
  /** @type {Record<string, number>} */
  const byKind = Object.fromEntries(REQUEST_KINDS.map((k) => [k, 0]));
  let errors = 0;
  for (const line of text.split('\n')) {
    if (!line.includes(token)) continue;
    const r = parseAccessLine(line);
    if (r === null || r.atMs < fromMs || r.atMs > toMs) continue;
    byKind[r.kind] = (byKind[r.kind] ?? 0) + 1;
    if (r.status >= 400) errors++;
  }
  const total = Object.values(byKind).reduce((a, b) => a + b, 0);
  const seconds = Math.max(0.001, (toMs - fromMs) / 1000);
  /** @type {Record<string, number>} */
  const perS = Object.fromEntries(Object.entries(byKind).map(([k, v]) => [k, Math.round((v / seconds) * 100) / 100]));
  return { by_kind: byKind, per_s: perS, total, errors_4xx_5xx: errors, window_s: Math.round(seconds * 1000) / 1000 };
}

/**
 * The test server's view of a phase: `mark()` before it, `measure(prefix)` after it gives the
 * node's requests in the phase and the CPU seconds of the gateway's daemons (radosgw, OSD,
 * monitor). Null without a server directory.
 * @param {string | null} serverDir
 */
export function s3ServerProbe(serverDir) {
  if (serverDir === null) return null;
  const logPath = path.join(serverDir, RGW_LOG);
  if (!fs.existsSync(logPath)) throw new UsageError(`--s3-server-dir ${serverDir}: no gateway log at ${logPath}`);
  const daemonTicks = () => {
    let ticks = 0;
    for (const file of DAEMON_PID_FILES) {
      try {
        const pid = fs.readFileSync(path.join(serverDir, 'run', file), 'utf8').trim();
        const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
        const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        ticks += Number(rest[11]) + Number(rest[12]);
      } catch {
        /* a daemon that is not running spends nothing */
      }
    }
    return ticks;
  };
  return {
    mark() {
      return { offset: fs.statSync(logPath).size, atMs: Date.now(), ticks: daemonTicks() };
    },
    /**
     * @param {{ offset: number, atMs: number, ticks: number }} from
     * @param {string} prefix
     * @param {number} clkTck
     */
    measure(from, prefix, clkTck) {
      const toMs = Date.now();
      const ticks = daemonTicks();
      const fd = fs.openSync(logPath, 'r');
      let text;
      try {
        const size = fs.fstatSync(fd).size;
        const buf = Buffer.alloc(Math.max(0, size - from.offset));
        fs.readSync(fd, buf, 0, buf.length, from.offset);
        text = buf.toString('latin1');
      } finally {
        fs.closeSync(fd);
      }
      return { requests: countRequests(text, prefix, from.atMs, toMs), daemon_cpu_seconds: (ticks - from.ticks) / clkTck };
    },
  };
}
