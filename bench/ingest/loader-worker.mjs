// @ts-check
// Loader thread: owns a set of keep-alive HTTP/1.1 connections on raw `net` sockets; the
// pre-built request pool is shared by every loader thread, which take its batches in one order
// (batch-sequence.mjs). Closed loop (default): each connection sends its next request when
// the previous response has arrived. Open loop (`requestsPerS` > 0): requests are due on a fixed
// schedule, each sent by the first idle connection (waiting for one if all are busy), and its
// latency counts from the time it was due, not from the time it went out: a slow answer delays
// the requests behind it, and that delay is part of their latency (no coordinated omission).
// No HTTP library on the hot path: request bytes are built once (headers + Content-Length + body)
// and the response parser reads only the status line and the framing headers.
//
// Distinct rows: the pool holds N batches covering rows [0, poolRows) of the TSBS stream, i.e. the
// instants [t0, t0 + span). Use k of a batch re-stamps its times to `original + k * span` in place,
// so every request of the run carries (hostname, time) keys that no other request carried (a batch
// is never re-stamped while it is in flight, and each use of it is taken once).
import net from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { BatchSequence } from './batch-sequence.mjs';
import { DECIMAL_TIME_FORMATS, writeInt64Ms, writeLineProtocolMs } from './tsbs.mjs';

/**
 * @typedef {{
 *   host: string, port: number, connections: number,
 *   buf: SharedArrayBuffer, reqStart: Float64Array, reqLen: Float64Array, timeOff: SharedArrayBuffer,
 *   sequence: SharedArrayBuffer, batchRows: number, format: import('./tsbs.mjs').WireFormat,
 *   hosts: number, startMs: number, intervalMs: number, spanMs: number,
 *   backoffMs: number, maxBackoffMs: number, drainTimeoutMs: number, requestsPerS: number,
 * }} WorkerInput `buf`: every batch's request (headers + body) at `reqStart`, `reqLen`; `timeOff`:
 *   Int32 per row of every batch, where in `buf` its time is written; `requestsPerS`: this thread's
 *   open-loop rate, 0 for the closed loop
 */

const input = /** @type {WorkerInput} */ (workerData);
const port = /** @type {import('node:worker_threads').MessagePort} */ (parentPort);

const bytes = new Uint8Array(input.buf);
const view = new DataView(input.buf);
const timeOff = new Int32Array(input.timeOff);
const nBatches = input.reqStart.length;
const sequence = new BatchSequence(input.sequence, nBatches);

let running = false;
let stopping = false;
let rowsAcked = 0;
let requests = 0;
/** @type {Record<string, number>} */
const errorsByStatus = {};
let latencies = new Float64Array(1 << 16);
/** Per latency: when its request began (due in open loop, sent in closed loop), ms after the start. */
let latencyStarts = new Float64Array(1 << 16);
let nLat = 0;
/** performance.now() at the 'start' message: latencyStarts count from here. */
let runStartMs = 0;
let reqBytesSent = 0;
const openLoop = input.requestsPerS > 0;
const decimalTimes = DECIMAL_TIME_FORMATS.includes(input.format);
/** Open loop: the due times (performance.now() ms) of requests no connection has taken yet. */
let due = new Float64Array(1 << 12);
let dueHead = 0;
let dueTail = 0;
let requestsScheduled = 0;

/** @param {string} key */
function countError(key) {
  errorsByStatus[key] = (errorsByStatus[key] ?? 0) + 1;
}

/** @param {number} ms */
function recordLatency(ms) {
  if (nLat === latencies.length) {
    const next = new Float64Array(latencies.length * 2);
    next.set(latencies);
    latencies = next;
    const nextStarts = new Float64Array(latencyStarts.length * 2);
    nextStarts.set(latencyStarts);
    latencyStarts = nextStarts;
  }
  latencyStarts[nLat] = performance.now() - ms - runStartMs;
  latencies[nLat++] = ms;
}

/** Takes the next batch of the shared order, re-stamped for its use; -1 when every batch is in flight. */
function takeBatch() {
  const taken = sequence.take();
  if (taken === null) return -1; // pool too small for the connections: the caller retries shortly
  if (sequence.stampedUse(taken.batch) !== taken.use) {
    restamp(taken.batch, taken.use);
    sequence.stamped(taken.batch, taken.use);
  }
  return taken.batch;
}

/**
 * @param {number} b
 * @param {number} k
 */
function restamp(b, k) {
  const base = /** @type {number} */ (input.reqStart[b]);
  const firstRow = b * input.batchRows;
  const shift = k * input.spanMs;
  const off = b * input.batchRows;
  for (let i = 0; i < input.batchRows; i++) {
    const t = input.startMs + Math.floor((firstRow + i) / input.hosts) * input.intervalMs + shift;
    const at = base + /** @type {number} */ (timeOff[off + i]);
    if (decimalTimes) writeLineProtocolMs(bytes, at, t);
    else writeInt64Ms(view, at, t);
  }
}

const CRLFCRLF = Buffer.from('\r\n\r\n');

class Conn {
  constructor() {
    /** @type {net.Socket | null} */
    this.sock = null;
    this.connected = false;
    this.batch = -1; // batch in flight or awaiting retry
    this.writeDone = true;
    this.sentAt = 0n;
    this.dueAtMs = -1; // open loop: when the request in hand was due (its latency counts from there); -1: none
    this.backoff = input.backoffMs;
    /** @type {Buffer | null} */
    this.pending = null; // unparsed response bytes
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.timer = null;
    /** @type {(() => void) | null} */
    this.onConnect = null;
  }

  connect() {
    return new Promise((resolve, reject) => {
      const sock = net.connect({ host: input.host, port: input.port });
      sock.setNoDelay(true);
      this.sock = sock;
      this.pending = null;
      let wasConnected = false;
      sock.once('connect', () => {
        wasConnected = true;
        this.connected = true;
        resolve(undefined);
      });
      sock.on('data', (d) => this.onData(d));
      sock.on('error', (err) => {
        if (!wasConnected) reject(err);
      });
      // A socket that never connected is retried by reconnect(), not here.
      sock.on('close', () => {
        if (wasConnected) this.onClose(sock);
      });
    });
  }

  /** @param {net.Socket} sock */
  onClose(sock) {
    if (sock !== this.sock) return;
    this.connected = false;
    this.sock = null;
    if (this.batch >= 0 && this.sentAt !== 0n) {
      // In flight when the connection died: the server may or may not have written the rows;
      // they are not acknowledged. Count it and move on to a fresh batch.
      countError('socket');
      this.release();
    }
    this.reconnect();
  }

  reconnect() {
    this.timer = null;
    if (stopping) {
      this.release();
      maybeDone();
      return;
    }
    this.connect().then(
      () => {
        if (running) this.sendNext();
      },
      () => {
        countError('connect');
        this.sock = null;
        this.timer = setTimeout(() => this.reconnect(), 100);
      },
    );
  }

  release() {
    if (this.batch >= 0) {
      sequence.release(this.batch);
      this.batch = -1;
    }
    this.sentAt = 0n;
    this.dueAtMs = -1;
  }

  sendNext() {
    this.timer = null;
    if (!running || stopping) {
      this.release();
      maybeDone();
      return;
    }
    if (!this.sock) {
      this.reconnect(); // closed while idle (e.g. before the start); sendNext runs once connected
      return;
    }
    if (!this.connected) return; // connecting: its reconnect() calls sendNext

    if (openLoop && this.dueAtMs < 0) {
      if (dueHead === dueTail) return; // nothing due: the schedule's tick hands the next one
      this.dueAtMs = /** @type {number} */ (due[dueHead++]);
    }
    if (this.batch < 0) {
      this.batch = takeBatch();
      if (this.batch < 0) {
        this.timer = setTimeout(() => this.sendNext(), 1);
        return;
      }
    }
    const start = /** @type {number} */ (input.reqStart[this.batch]);
    const len = /** @type {number} */ (input.reqLen[this.batch]);
    this.writeDone = false;
    this.sentAt = process.hrtime.bigint();
    reqBytesSent += len;
    this.sock.write(bytes.subarray(start, start + len), () => {
      this.writeDone = true;
    });
  }

  /** @param {Buffer} d */
  onData(d) {
    let buf = this.pending ? Buffer.concat([this.pending, d]) : d;
    for (;;) {
      const hdrEnd = buf.indexOf(CRLFCRLF);
      if (hdrEnd < 0) break;
      const head = buf.toString('latin1', 0, hdrEnd);
      const status = Number(head.slice(9, 12));
      let bodyLen = 0;
      let chunked = false;
      let close = false;
      const lines = head.split('\r\n');
      for (let i = 1; i < lines.length; i++) {
        const line = /** @type {string} */ (lines[i]);
        const c = line.indexOf(':');
        if (c < 0) continue;
        const name = line.slice(0, c).trim().toLowerCase();
        const value = line.slice(c + 1).trim().toLowerCase();
        if (name === 'content-length') bodyLen = Number(value);
        else if (name === 'transfer-encoding') chunked = value.includes('chunked');
        else if (name === 'connection') close = value === 'close';
      }
      if (lines[0]?.startsWith('HTTP/1.0') && !/connection:\s*keep-alive/i.test(head)) close = true;
      let end = hdrEnd + 4;
      if (status === 204 || status === 304 || (status >= 100 && status < 200)) {
        // no body
      } else if (chunked) {
        const e = chunkedEnd(buf, end);
        if (e < 0) break;
        end = e;
      } else {
        if (buf.length < end + bodyLen) break;
        end += bodyLen;
      }
      buf = buf.subarray(end);
      if (status >= 100 && status < 200) continue;
      this.onResponse(status, close);
    }
    this.pending = buf.length ? Buffer.from(buf) : null;
  }

  /**
   * @param {number} status
   * @param {boolean} close
   */
  onResponse(status, close) {
    if (this.batch < 0 || this.sentAt === 0n) return; // unsolicited
    const ms = openLoop ? performance.now() - this.dueAtMs : Number(process.hrtime.bigint() - this.sentAt) / 1e6;
    this.sentAt = 0n;
    requests++;
    if (status === 204) {
      rowsAcked += input.batchRows;
      recordLatency(ms);
      this.backoff = input.backoffMs;
      this.release();
    } else if (status === 503 || status === 429) {
      // Overload: not accepted. Retry the same bytes (same rows) after a short backoff.
      countError(String(status));
      if (!this.writeDone) this.release(); // cannot safely resend a buffer still being written
    } else {
      countError(String(status));
      this.release();
    }
    if (stopping) {
      this.release();
      if (close) this.sock?.end();
      maybeDone();
      return;
    }
    if (close) {
      this.sock?.end();
      return; // onClose reconnects
    }
    if (status === 503 || status === 429) {
      const wait = this.backoff;
      this.backoff = Math.min(this.backoff * 2, input.maxBackoffMs);
      this.timer = setTimeout(() => this.sendNext(), wait);
    } else {
      this.sendNext();
    }
  }

  idle() {
    return this.sentAt === 0n;
  }

  /** Open loop: free to take the next due request (connected, nothing in hand, no retry pending). */
  ready() {
    return this.connected && this.sock !== null && this.dueAtMs < 0 && this.timer === null;
  }

  stop() {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.idle()) this.release();
  }
}

/**
 * End offset of a chunked body starting at `p`, or -1 if incomplete.
 * @param {Buffer} buf
 * @param {number} p
 */
function chunkedEnd(buf, p) {
  for (;;) {
    const le = buf.indexOf('\r\n', p, 'latin1');
    if (le < 0) return -1;
    const size = parseInt(buf.toString('latin1', p, le), 16);
    if (size === 0) {
      const te = buf.indexOf(CRLFCRLF, le, 'latin1');
      return te < 0 ? -1 : te + 4; // (no trailers expected: "0\r\n\r\n")
    }
    p = le + 2 + size + 2;
    if (p > buf.length) return -1;
  }
}

/** @type {Conn[]} */
const conns = [];
let doneSent = false;
/** @type {ReturnType<typeof setTimeout> | null} */
let drainTimer = null;

function maybeDone() {
  if (!stopping || doneSent) return;
  if (!conns.every((c) => c.idle())) return;
  doneSent = true;
  if (drainTimer) clearTimeout(drainTimer);
  for (const c of conns) c.sock?.destroy();
  const lat = latencies.slice(0, nLat);
  const latStarts = latencyStarts.slice(0, nLat);
  port.postMessage(
    { type: 'done', rowsAcked, requests, errorsByStatus, latencies: lat, latencyStarts: latStarts, reqBytesSent, requestsScheduled, requestsUnsent: dueTail - dueHead },
    [lat.buffer, latStarts.buffer],
  );
}

/** @param {number} atMs */
function pushDue(atMs) {
  if (dueTail === due.length) {
    // Move the backlog to the front; into an array twice the size when it fills more than half.
    const backlog = due.subarray(dueHead, dueTail);
    const next = backlog.length * 2 > due.length ? new Float64Array(due.length * 2) : due;
    next.set(backlog);
    due = next;
    dueTail -= dueHead;
    dueHead = 0;
  }
  due[dueTail++] = atMs;
  requestsScheduled++;
}

/**
 * Open loop: every `1000 / requestsPerS` ms from `startMs` a request is due; each tick queues the
 * ones due by now and hands them to the idle connections, then sleeps until the next one is due.
 * @param {number} startMs
 * @param {number} endMs
 */
function runSchedule(startMs, endMs) {
  const intervalMs = 1000 / input.requestsPerS;
  let k = 0;
  const tick = () => {
    if (stopping) return;
    const now = performance.now();
    for (let at = startMs + k * intervalMs; at <= now && at < endMs; at = startMs + ++k * intervalMs) pushDue(at);
    for (const c of conns) {
      if (dueHead === dueTail) break;
      if (c.ready()) c.sendNext();
    }
    const next = startMs + k * intervalMs;
    if (next < endMs) setTimeout(tick, Math.max(0, next - performance.now()));
  };
  tick();
}

port.on('message', (msg) => {
  if (msg.type === 'start') {
    running = true;
    runStartMs = performance.now();
    setTimeout(() => {
      stopping = true;
      for (const c of conns) c.stop();
      // A request that never completes must not hang the run.
      drainTimer = setTimeout(() => {
        for (const c of conns) {
          if (!c.idle()) {
            countError('timeout');
            c.sentAt = 0n;
            c.release();
          }
        }
        maybeDone();
      }, input.drainTimeoutMs);
      maybeDone();
    }, msg.durationMs);
    if (openLoop) {
      const startMs = performance.now();
      runSchedule(startMs, startMs + msg.durationMs);
    } else {
      for (const c of conns) c.sendNext();
    }
    const progress = setInterval(() => {
      if (doneSent) clearInterval(progress);
      else port.postMessage({ type: 'progress', rowsAcked, requests });
    }, 1000);
    progress.unref();
  }
});

try {
  for (let i = 0; i < input.connections; i++) conns.push(new Conn());
  await Promise.all(conns.map((c) => c.connect()));
  port.postMessage({ type: 'ready' });
} catch (err) {
  port.postMessage({ type: 'error', message: `connect to ${input.host}:${input.port}: ${String(err)}` });
}
