// Helpers shared by the fault tests (`make test-faults`): a raw HTTP exchange that tells a hang or
// a bare close from an answer, the server child's resident memory and open descriptors read from
// /proc, polling with a deadline, row counts, a server that is restarted when a test killed it, and
// the one-line JSON figures each case prints for docs/reliability.md. The server itself is started
// by ../../support/arc-process.ts (startArc), as in every integration test.
import { expectCleanStop } from '../../support/clean-stop.js';
import { readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { request, type Agent, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import { ArcClient } from '../../support/arc-client.js';
import { startArc, TEST_TOKEN, type ArcProcess } from '../../support/arc-process.js';

/** A request with no complete answer after this long counts as a hang (issue 11's bar). */
export const REQUEST_DEADLINE_MS = 10_000;

export const AUTH_HEADER = { Authorization: `Bearer ${TEST_TOKEN}` } as const;

export interface Exchange {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly ms: number;
  text(): string;
}

/** No status line came back: the server hung past the deadline, or closed the connection. */
export class NoAnswer extends Error {
  readonly reason: 'hang' | 'closed';
  readonly ms: number;

  constructor(reason: 'hang' | 'closed', detail: string, ms: number) {
    super(`${reason === 'hang' ? 'no answer within' : 'connection closed without an answer after'} ${String(ms)} ms: ${detail}`);
    this.reason = reason;
    this.ms = ms;
  }
}

export interface ExchangeOptions {
  readonly method?: string;
  readonly path: string;
  readonly headers?: OutgoingHttpHeaders;
  readonly body?: Uint8Array | string;
  readonly deadlineMs?: number;
  /** A keep-alive agent; by default every exchange has a connection of its own. */
  readonly agent?: Agent;
}

/**
 * One HTTP request over node:http (which, unlike fetch, sends any header and length we ask for),
 * resolved with the whole answer; rejected with NoAnswer on a hang or a close without a status.
 */
export function exchange(baseUrl: string, options: ExchangeOptions): Promise<Exchange> {
  const url = new URL(baseUrl);
  const deadlineMs = options.deadlineMs ?? REQUEST_DEADLINE_MS;
  const startedAt = performance.now();
  const elapsed = (): number => Math.round(performance.now() - startedAt);
  return new Promise((resolve, reject) => {
    let answered = false;
    const outgoing = request(
      { host: url.hostname, port: url.port, method: options.method ?? 'POST', path: options.path, headers: options.headers, agent: options.agent ?? false },
      (response) => {
        answered = true;
        const chunks: Buffer[] = [];
        const finish = (): void => {
          clearTimeout(timer);
          const body = Buffer.concat(chunks);
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body, ms: elapsed(), text: () => body.toString('utf8') });
        };
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', finish);
        response.on('close', finish);
      },
    );
    const fail = (reason: 'hang' | 'closed', detail: string): void => {
      clearTimeout(timer);
      outgoing.destroy();
      reject(new NoAnswer(reason, detail, elapsed()));
    };
    // A deadline, not a wait: the answer's events settle first; only a server that hangs meets it.
    const timer = setTimeout(() => fail('hang', `${options.method ?? 'POST'} ${options.path.slice(0, 120)}`), deadlineMs);
    // An answer may come before the whole body is sent (413 on Content-Length): the server may then
    // stop reading and close, and the rest of the upload fails. That answer counts.
    outgoing.on('error', (error: NodeJS.ErrnoException) => {
      if (!answered) fail('closed', error.code ?? error.message);
    });
    outgoing.end(options.body === undefined ? undefined : Buffer.from(options.body));
  });
}

/**
 * The same over a bare socket, for requests whose body the server may refuse before reading it
 * (413, 431): node:http drops an answer that arrives while it is still uploading once the upload
 * fails, a socket keeps every byte the server sent. `head` is the request line and headers without
 * the final blank line. The answer ends at its Content-Length or when the server closes. With
 * `byteIntervalMs`, the body goes one byte at a time (a slow client), stopping once answered.
 */
export function rawExchange(baseUrl: string, head: string, body: Uint8Array | null, deadlineMs = REQUEST_DEADLINE_MS, byteIntervalMs?: number): Promise<Exchange> {
  const url = new URL(baseUrl);
  const startedAt = performance.now();
  const elapsed = (): number => Math.round(performance.now() - startedAt);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let settled = false;
    const socket = connect(Number(url.port), url.hostname, () => {
      socket.write(`${head}\r\n\r\n`);
      if (body === null) return;
      if (byteIntervalMs === undefined) socket.write(body);
      else trickle(body, 0);
    });
    const trickle = (bytes: Uint8Array, offset: number): void => {
      if (settled || offset >= bytes.byteLength || socket.destroyed) return;
      socket.write(bytes.subarray(offset, offset + 1));
      // The pace is the case (a slow client's byte interval), not a wait for an event.
      setTimeout(() => trickle(bytes, offset + 1), byteIntervalMs);
    };
    const settle = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const received = Buffer.concat(chunks);
      const headEnd = received.indexOf('\r\n\r\n');
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(received.subarray(0, 20).toString('latin1'));
      if (headEnd === -1 || status?.[1] === undefined) {
        reject(new NoAnswer('closed', `${String(received.byteLength)} bytes received: ${JSON.stringify(received.subarray(0, 80).toString('latin1'))}`, elapsed()));
        return;
      }
      const headers: IncomingHttpHeaders = {};
      for (const line of received.subarray(0, headEnd).toString('latin1').split('\r\n').slice(1)) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const answerBody = received.subarray(headEnd + 4);
      resolve({ status: Number(status[1]), headers, body: answerBody, ms: elapsed(), text: () => answerBody.toString('utf8') });
    };
    // A deadline, not a wait: the answer's bytes settle first; only a server that hangs meets it.
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new NoAnswer('hang', head.split('\r\n')[0] ?? head, elapsed()));
    }, deadlineMs);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (complete(Buffer.concat(chunks))) settle();
    });
    // A refused upload may end in EPIPE or ECONNRESET: what was received until then is the answer.
    socket.on('error', () => undefined);
    socket.on('close', settle);
  });
}

/** True once `received` holds a whole answer with a Content-Length (error answers have one). */
function complete(received: Buffer): boolean {
  const headEnd = received.indexOf('\r\n\r\n');
  if (headEnd === -1) return false;
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(received.subarray(0, headEnd).toString('latin1'));
  return length?.[1] !== undefined && received.byteLength - headEnd - 4 >= Number(length[1]);
}

export interface ProcessFigures {
  readonly rssMb: number;
  readonly fds: number;
}

/** Resident memory (VmRSS) and open file descriptors of a process, from /proc. */
export function processFigures(pid: number): ProcessFigures {
  const status = readFileSync(`/proc/${String(pid)}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  if (match?.[1] === undefined) throw new Error(`no VmRSS in /proc/${String(pid)}/status`);
  return { rssMb: Math.round(Number(match[1]) / 102.4) / 10, fds: readdirSync(`/proc/${String(pid)}/fd`).length };
}

export function pidOf(arc: ArcProcess): number {
  const pid = arc.child.pid;
  if (pid === undefined) throw new Error('the server child has no pid');
  return pid;
}

/** The tests' one poll helper, offered here too so that fault tests import their kit only. */
export { pollUntil } from '../../../../../test/support/poll-until.js';

/** Rows of `database`.`measurement`; 0 when it has no file and no buffered schema (no view). */
export async function countRows(client: ArcClient, database: string, measurement: string): Promise<number> {
  const answer = await client.query(`SELECT count(*) FROM "${measurement}"`, database);
  if (answer.status !== 200) return 0;
  return Number((answer.json() as { data: unknown[][] }).data[0]?.[0] ?? 0);
}

/** Every row of every measurement of `database` (after a flush: what is on disk). */
export async function databaseRows(client: ArcClient, database: string): Promise<number> {
  const tables = await client.query(`SHOW TABLES FROM "${database}"`);
  if (tables.status !== 200) return 0;
  let rows = 0;
  for (const row of (tables.json() as { data: unknown[][] }).data) rows += await countRows(client, database, String(row[1]));
  return rows;
}

/** The databases the server knows (SHOW DATABASES). */
export async function databaseNames(client: ArcClient): Promise<string[]> {
  return (await client.rows('SHOW DATABASES')).map((row) => String(row[0]));
}

/**
 * Prints one JSON line per case, `{"fault": name, ...figures}`, for docs/reliability.md
 * (`make test-faults | grep '^{"fault"'`).
 */
export function printFigures(name: string, figures: Record<string, unknown>): void {
  console.log(JSON.stringify({ fault: name, ...figures }));
}

/** Fails the test unless the server process is still running and answers /health with 200. */
export async function expectAlive(arc: ArcProcess): Promise<void> {
  expect(arc.child.exitCode, `the server exited:\n${arc.output().slice(-2000)}`).toBeNull();
  expect(arc.child.signalCode).toBeNull();
  const health = await exchange(arc.url, { method: 'GET', path: '/health' });
  expect(health.status).toBe(200);
}

async function answersHealth(arc: ArcProcess): Promise<boolean> {
  if (arc.child.exitCode !== null || arc.child.signalCode !== null) return false;
  try {
    return (await exchange(arc.url, { method: 'GET', path: '/health', deadlineMs: 2000 })).status === 200;
  } catch {
    return false;
  }
}

export interface FaultArc {
  readonly arc: ArcProcess;
  readonly client: ArcClient;
  /** Servers that died during the file (each was replaced before the next test). */
  readonly deaths: number;
}

/**
 * One server per test file, like useSharedArc, except that a test which kills it (a defect the
 * test reports itself) does not fail every later test too: before each test a dead server is
 * replaced by a fresh one. After the last test a live server must stop with exit code 0.
 */
export function useFaultArc(env: Record<string, string> = {}): FaultArc {
  let arc: ArcProcess | null = null;
  let client: ArcClient | null = null;
  let deaths = 0;
  const dead = (process: ArcProcess): boolean => process.child.exitCode !== null || process.child.signalCode !== null;
  const start = async (): Promise<void> => {
    arc = await startArc(env);
    client = new ArcClient(arc.url);
  };
  beforeAll(start, 120_000);
  beforeEach(async () => {
    if (arc === null || (await answersHealth(arc))) return;
    // A server that is stopping after a fatal error may still be exiting: make sure it is gone.
    deaths += 1;
    await arc.kill();
    await arc.cleanup();
    await start();
  }, 120_000);
  afterAll(async () => {
    if (arc === null) return;
    if (!dead(arc)) await expectCleanStop(arc);
    await arc.cleanup();
  });
  return {
    get arc(): ArcProcess {
      if (arc === null) throw new Error('the fault server is not started yet');
      return arc;
    },
    get client(): ArcClient {
      if (client === null) throw new Error('the fault server is not started yet');
      return client;
    },
    get deaths(): number {
      return deaths;
    },
  };
}
