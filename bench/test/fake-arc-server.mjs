// @ts-check
// A tiny stand-in for Arc's HTTP surface, enough for the ingest loader: GET /ready, POST
// /write/v2/msgpack (decodes the body with msgpackr and counts rows per database), POST
// /write/flush, POST /query for `SELECT count(*) ... FROM cpu`. Used by the vitest test and,
// run directly (`ARC_PORT=... ARC_AUTH_BOOTSTRAP_TOKEN=... node fake-arc-server.mjs serve`), as
// a `--server-entry` for `ingest.mjs --spawn`.
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Unpackr } from 'msgpackr';

const unpackr = new Unpackr({ useRecords: false });

/**
 * @typedef {{
 *   rowsByDb: Map<string, number>, keysByDb: Map<string, Set<string>>, writes: number,
 *   rejected503: number, badRequests: number, nonIntegerTimes: number, nonIntegerFields: number,
 *   formats: Set<string>, flushes: number, queries: number,
 * }} FakeStats
 */

/**
 * `delayMs`: each write is answered this long after it arrived (a slow server, for the open loop).
 * @param {{ port?: number, token?: string, fail503Every?: number, trackKeys?: boolean, delayMs?: number }} [opts]
 * @returns {Promise<{ url: string, port: number, stats: FakeStats, close: () => Promise<void> }>}
 */
export async function startFakeArc(opts = {}) {
  const token = opts.token ?? 'test-token';
  /** @type {FakeStats} */
  const stats = {
    rowsByDb: new Map(),
    keysByDb: new Map(),
    writes: 0,
    rejected503: 0,
    badRequests: 0,
    nonIntegerTimes: 0,
    nonIntegerFields: 0,
    formats: new Set(),
    flushes: 0,
    queries: 0,
  };

  /**
   * @param {http.ServerResponse} res
   * @param {number} status
   * @param {unknown} [body]
   */
  const send = (res, status, body) => {
    if (body === undefined) {
      res.writeHead(status);
      res.end();
    } else {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    }
  };

  /**
   * @param {string} db
   * @param {unknown} host
   * @param {unknown} t
   */
  const track = (db, host, t) => {
    if (typeof t !== 'bigint' && !Number.isInteger(t)) stats.nonIntegerTimes++;
    if (!opts.trackKeys) return;
    let set = stats.keysByDb.get(db);
    if (!set) stats.keysByDb.set(db, (set = new Set()));
    set.add(`${String(host)}|${String(t)}`);
  };

  /**
   * @param {any} msg
   * @param {string} db
   * @returns {number} rows
   */
  const countRows = (msg, db) => {
    if (msg && typeof msg === 'object' && msg.columns && typeof msg.columns === 'object') {
      stats.formats.add('columnar');
      const time = msg.columns.time;
      if (!Array.isArray(time)) throw new Error('no time column');
      for (const [name, col] of Object.entries(msg.columns)) {
        if (!Array.isArray(col) || col.length !== time.length) throw new Error(`column ${name} length`);
        if (name.startsWith('usage_') && !col.every((v) => Number.isInteger(v))) stats.nonIntegerFields++;
      }
      time.forEach((t, i) => track(db, msg.columns.hostname?.[i], t));
      return time.length;
    }
    const rows = Array.isArray(msg) ? msg : msg?.batch;
    if (!Array.isArray(rows)) throw new Error('not a row batch');
    stats.formats.add('rows');
    let n = 0;
    for (const row of rows) {
      if (row.columns) {
        n += countRows(row, db);
        continue;
      }
      if (!row.fields) throw new Error('row without fields');
      if (!Object.values(row.fields).every((v) => Number.isInteger(v))) stats.nonIntegerFields++;
      track(db, row.tags?.hostname, row.t);
      n++;
    }
    return n;
  };

  const server = http.createServer((req, res) => {
    /** @type {Buffer[]} */
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (req.method === 'GET' && url.pathname === '/ready') return send(res, 200, { status: 'ready' });
      if (req.headers.authorization !== `Bearer ${token}`) return send(res, 401, { error: 'Invalid or expired token' });
      const db = String(req.headers['x-arc-database'] ?? 'default');
      const body = Buffer.concat(chunks);
      if (req.method === 'POST' && url.pathname === '/write/v2/msgpack') {
        stats.writes++;
        if (opts.fail503Every && stats.writes % opts.fail503Every === 0) {
          stats.rejected503++;
          res.setHeader('retry-after', '1');
          return send(res, 503, { error: 'overloaded' });
        }
        let n;
        try {
          n = countRows(unpackr.unpack(body), db);
        } catch (err) {
          stats.badRequests++;
          return send(res, 400, { error: `Invalid MessagePack payload: ${String(err)}` });
        }
        stats.rowsByDb.set(db, (stats.rowsByDb.get(db) ?? 0) + n);
        if (opts.delayMs) {
          // The delay is the case under test (a slow server), not an ordering of events.
          setTimeout(() => send(res, 204), opts.delayMs);
          return;
        }
        return send(res, 204);
      }
      if (req.method === 'POST' && url.pathname === '/write/flush') {
        stats.flushes++;
        return send(res, 200, { success: true });
      }
      if (req.method === 'POST' && url.pathname === '/query') {
        stats.queries++;
        const q = JSON.parse(body.toString('utf8'));
        if (!/count\(\*\)/i.test(q.sql) || !/\bfrom\s+cpu\b/i.test(q.sql)) {
          return send(res, 400, { success: false, error: `fake server only counts cpu rows: ${q.sql}` });
        }
        return send(res, 200, {
          success: true,
          columns: ['n'],
          data: [[stats.rowsByDb.get(db) ?? 0]],
          row_count: 1,
          execution_time_ms: 0,
          timestamp: new Date().toISOString(),
        });
      }
      return send(res, 404, { error: 'not found' });
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', () => resolve(undefined)));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    stats,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const fake = await startFakeArc({
    port: Number(process.env.ARC_PORT ?? 8000),
    token: process.env.ARC_AUTH_BOOTSTRAP_TOKEN ?? 'test-token',
    fail503Every: Number(process.env.FAKE_ARC_503_EVERY ?? 0),
  });
  process.stdout.write(`fake arc listening on ${fake.url}\n`);
  process.once('SIGTERM', () => {
    void fake.close().then(() => {
      process.stdout.write(`fake arc rows ${JSON.stringify([...fake.stats.rowsByDb])}\n`);
      process.exit(0);
    });
  });
}
