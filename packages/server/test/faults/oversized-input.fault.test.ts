// Proves that input far over a limit gets the 4xx that names the limit, quickly, with nothing written
// and the server still up: measurement, database, tag and field names up to 2 MB long in every
// write format, headers and URLs over the request-head limit (431/414, not a bare close), bodies
// over the body limit (declared, sent, chunked) and gzip / zstd bombs that inflate to 1 GB, while
// the server's resident memory stays within a bound (sampled from /proc during the bombs).
import { gzipSync } from 'node:zlib';
import { compress as zstdCompress } from 'zstd-napi';
import { describe, expect, it } from 'vitest';
import { msgpack } from '../support/arc-client.js';
import { AUTH_HEADER, NoAnswer, databaseNames, exchange, expectAlive, pidOf, printFigures, processFigures, rawExchange, useFaultArc, type Exchange } from './support/fault-kit.js';
import { utf8 } from './support/mutations.js';

const BODY_MAX_MB = 8;
const BODY_MAX_BYTES = BODY_MAX_MB * 1024 * 1024;
const fault = useFaultArc({ ARC_SERVER_BODY_MAX_MB: String(BODY_MAX_MB), ARC_WRITER_FLUSH_AGE_MS: '600000' });
const T0_MS = Date.UTC(2026, 0, 1);
const NAME_LENGTHS = [129, 10_000, 2_000_000];
/** A bomb is 16 compressed members of 64 MiB of zeros each: 1 GiB inflated, ~1 MB (gzip) or ~33 KB (zstd) sent. */
const BOMB_MEMBER_BYTES = 64 * 1024 * 1024;
const BOMB_MEMBERS = 16;
/**
 * Resident memory a bomb may add: decompression stops at the body limit (8 MiB), plus buffers and
 * heap noise; inflating the bomb whole would add 1 GiB.
 */
const BOMB_RSS_GROWTH_MB_MAX = 200;

type WriteFormat = 'msgpack-rows' | 'msgpack-columnar' | 'line-protocol' | 'json';
const FORMATS: readonly WriteFormat[] = ['msgpack-rows', 'msgpack-columnar', 'line-protocol', 'json'];

interface Names {
  readonly measurement: string;
  readonly tag: string;
  readonly tagValue: string;
  readonly field: string;
}

/** One row in `format` with the given names; the path it goes to and its content type. */
function writeOf(format: WriteFormat, names: Names): { path: string; contentType: string; body: Uint8Array } {
  const { measurement, tag, tagValue, field } = names;
  switch (format) {
    case 'msgpack-rows':
      return { path: '/write/v2/msgpack', contentType: 'application/msgpack', body: msgpack({ batch: [{ m: measurement, t: T0_MS, tags: { [tag]: tagValue }, fields: { [field]: 1 } }] }) };
    case 'msgpack-columnar':
      return { path: '/api/v1/write/msgpack', contentType: 'application/msgpack', body: msgpack({ m: measurement, columns: { time: [T0_MS], [tag]: [tagValue], [field]: [1] } }) };
    case 'line-protocol':
      return { path: '/api/v1/write/line-protocol', contentType: 'text/plain', body: utf8(`${measurement},${tag}=${tagValue} ${field}=1i ${String(T0_MS)}000000\n`) };
    case 'json':
      return { path: '/write/json', contentType: 'application/json', body: utf8(JSON.stringify({ m: measurement, t: T0_MS, tags: { [tag]: tagValue }, fields: { [field]: 1 } })) };
  }
}

let databaseSequence = 0;

/** Posts a write into a database of its own; resolves with the answer and that database. */
async function write(format: WriteFormat, names: Names): Promise<{ answer: Exchange; database: string }> {
  const database = `big${String(databaseSequence++)}`;
  const { path, contentType, body } = writeOf(format, names);
  const answer = await exchange(fault.arc.url, { path, headers: { ...AUTH_HEADER, 'Content-Type': contentType, 'x-arc-database': database }, body });
  return { answer, database };
}

/** After a flush, whether `database` holds anything (it would, had a refused write left rows). */
async function written(database: string): Promise<boolean> {
  expect((await fault.client.flush()).status).toBe(200);
  return (await databaseNames(fault.client)).includes(database);
}

function expectError(answer: Exchange, status: number): void {
  expect(answer.status, answer.text().slice(0, 300)).toBe(status);
  const body = JSON.parse(answer.text()) as { error?: unknown; code?: unknown };
  expect(body.error).toBeTypeOf('string');
  expect(String(body.code)).toMatch(/^ARC_/);
}

describe('names far over the limit', () => {
  const cases = NAME_LENGTHS.flatMap((length) => FORMATS.map((format) => [format, length] as const));
  it.each(cases)('refuses a %s measurement name of %i characters with 400, writes nothing, stays up', { timeout: 60_000 }, async (format, length) => {
    const { answer, database } = await write(format, { measurement: 'm'.repeat(length), tag: 'host', tagValue: 'a', field: 'v' });
    expectError(answer, 400);
    await expectAlive(fault.arc);
    expect(await written(database)).toBe(false);
  });

  it.each(FORMATS)('answers a %s write with 2 MB tag keys, tag values and field names with 204 or 400, never more', { timeout: 60_000 }, async (format) => {
    const long = 'k'.repeat(2_000_000);
    for (const names of [
      { measurement: 'big', tag: long, tagValue: 'a', field: 'v' },
      { measurement: 'big', tag: 'host', tagValue: long, field: 'v' },
      { measurement: 'big', tag: 'host', tagValue: 'a', field: long },
    ]) {
      const { answer, database } = await write(format, names);
      expect([204, 400], answer.text().slice(0, 300)).toContain(answer.status);
      await expectAlive(fault.arc);
      if (answer.status === 400) expect(await written(database)).toBe(false);
    }
  });

  // 3 KB keeps the head under its 4096-byte limit (the name is refused); 10 KB is over it (431).
  it.each([
    [3000, 400],
    [10_000, 431],
  ])('refuses a %i-character database name in the header, in ?db= and on /query with %i', async (length, status) => {
    const name = `d${'b'.repeat(length - 1)}`;
    const body = utf8('big v=1i\n');
    const header = await exchange(fault.arc.url, { path: '/api/v1/write/line-protocol', headers: { ...AUTH_HEADER, 'x-arc-database': name }, body });
    expectError(header, status);
    const parameter = await exchange(fault.arc.url, { path: `/write?db=${name}`, headers: AUTH_HEADER, body });
    expectError(parameter, status);
    const query = await exchange(fault.arc.url, { path: '/query', headers: { ...AUTH_HEADER, 'Content-Type': 'application/json', 'x-arc-database': name }, body: JSON.stringify({ sql: 'SELECT 1' }) });
    expectError(query, status);
    await expectAlive(fault.arc);
  });
});

/** The status of an exchange, or 'closed' / 'hang' when none came back. */
async function statusOf(promise: Promise<Exchange>): Promise<number | string> {
  try {
    return (await promise).status;
  } catch (error) {
    if (error instanceof NoAnswer) return `${error.reason} (${error.message})`;
    throw error;
  }
}

/** A request head (line and headers) with the test token, for rawExchange. */
function head(method: string, path: string, headers: Record<string, string> = {}): string {
  const lines = Object.entries({ Host: '127.0.0.1', ...AUTH_HEADER, ...headers }).map(([name, value]) => `${name}: ${value}`);
  return [`${method} ${path} HTTP/1.1`, ...lines].join('\r\n');
}

/**
 * uWS 20.30 parses a head in a 4-KiB buffer once it spans reads, a whole head only up to its
 * 512-KiB receive buffer, and at most 48 header lines: past these it closes the connection before
 * any route handler runs, so no status can be sent (docs/decisions.md). Such heads must end in
 * that prompt close, never a hang, and leave the server serving.
 */
function expectRefusedHead(outcome: number | string): void {
  if (typeof outcome === 'number') expect(outcome).toBe(431);
  else expect(outcome).toMatch(/^closed \(connection closed without an answer after \d+ ms: 0 bytes received/);
}

describe('request heads over the limit', () => {
  it('answers a 1 MB header with 431 or closes it at once', async () => {
    expectRefusedHead(await statusOf(rawExchange(fault.arc.url, head('GET', '/health', { 'X-Big': 'x'.repeat(1024 * 1024) }), null)));
    await expectAlive(fault.arc);
  });

  it('answers 1,000 headers with 431 or closes them at once', async () => {
    const headers = Object.fromEntries(Array.from({ length: 1000 }, (_, index) => [`x-h${String(index)}`, 'v']));
    expectRefusedHead(await statusOf(rawExchange(fault.arc.url, head('GET', '/health', headers), null)));
    await expectAlive(fault.arc);
  });

  it('answers a 1 MB URL with 414 or 431, or closes it at once', async () => {
    const status = await statusOf(rawExchange(fault.arc.url, head('GET', `/query?db=q&q=${'x'.repeat(1024 * 1024)}`), null));
    if (status !== 414) expectRefusedHead(status);
    await expectAlive(fault.arc);
  });

  it('answers a 5,000-byte header that arrives in one piece with 431', async () => {
    expect(await statusOf(rawExchange(fault.arc.url, head('GET', '/health', { 'X-Big': 'x'.repeat(5000) }), null))).toBe(431);
  });
});

describe('bodies over the limit', () => {
  const overLimit = Buffer.alloc(BODY_MAX_BYTES + 1, 0x20);
  const upload = (path: string, body: Uint8Array, headers: Record<string, string> = {}): Promise<Exchange> =>
    rawExchange(fault.arc.url, head('POST', path, { 'Content-Length': String(body.byteLength), ...headers }), body);

  // `Connection: close` is what node:http sends without an agent: the 413 must reach that client too.
  const paths = ['/write/v2/msgpack', '/write?db=big', '/api/v2/write?bucket=big', '/write/json'];
  it.each(paths.flatMap((path) => [[path, 'keep-alive'], [path, 'close']]))('refuses a body over the limit on %s (Connection: %s) with 413', async (path, connection) => {
    expectError(await upload(path, overLimit, { Connection: connection }), 413);
  });

  it.each(['/query', '/query/stream', '/api/v1/query/arrow'])('refuses a query body over the query limit on %s with 413', async (path) => {
    const body = utf8(JSON.stringify({ sql: `SELECT '${'x'.repeat(2 * 1024 * 1024)}'` }));
    expectError(await upload(path, body, { 'Content-Type': 'application/json' }), 413);
  });

  it.each([String(BODY_MAX_BYTES + 1), '999999999', '1000000000', String(10 * 1024 ** 3)])('refuses a declared body of %s bytes with 413 before any of it is sent', async (length) => {
    // No body is sent: the answer must come from the Content-Length alone.
    expectError(await rawExchange(fault.arc.url, head('POST', '/write/v2/msgpack', { 'Content-Length': length }), null, 5000), 413);
    await expectAlive(fault.arc);
  });

  it('refuses a chunked body that grows past the limit with 413', async () => {
    const answer = await exchange(fault.arc.url, { path: '/write?db=big', headers: { ...AUTH_HEADER, 'Transfer-Encoding': 'chunked' }, body: overLimit });
    expectError(answer, 413);
    await expectAlive(fault.arc);
  });
});

function bomb(kind: 'gzip' | 'zstd'): Buffer {
  const zeros = Buffer.alloc(BOMB_MEMBER_BYTES);
  const member = kind === 'gzip' ? gzipSync(zeros, { level: 9 }) : zstdCompress(zeros);
  // Concatenated gzip members and zstd frames are each one valid stream of their codec.
  return Buffer.concat(Array.from({ length: BOMB_MEMBERS }, () => member));
}

describe('compression bombs', () => {
  const bombs = { gzip: bomb('gzip'), zstd: bomb('zstd') };
  const paths = ['/write/v2/msgpack', '/api/v1/write/line-protocol', '/write/json'];
  const cases = (['gzip', 'zstd'] as const).flatMap((kind) => paths.map((path) => [kind, path] as const));

  it.each(cases)('refuses a 1 GiB %s bomb on %s with 413 within 10 s, memory bounded', async (kind, path) => {
    const pid = pidOf(fault.arc);
    const before = processFigures(pid);
    let peakMb = before.rssMb;
    const sampler = setInterval(() => (peakMb = Math.max(peakMb, processFigures(pid).rssMb)), 20);
    const database = `bomb${String(databaseSequence++)}`;
    let answer: Exchange;
    try {
      answer = await exchange(fault.arc.url, { path, headers: { ...AUTH_HEADER, 'x-arc-database': database, ...(kind === 'gzip' ? { 'Content-Encoding': 'gzip' } : {}) }, body: bombs[kind] });
    } finally {
      clearInterval(sampler);
    }
    expectError(answer, 413);
    expect(answer.text()).toMatch(/after decompression/);
    printFigures(`bomb-${kind}${path.replaceAll('/', '-')}`, { sent_bytes: bombs[kind].byteLength, inflated_bytes: BOMB_MEMBER_BYTES * BOMB_MEMBERS, ms: answer.ms, rss_before_mb: before.rssMb, rss_peak_mb: peakMb });
    expect(peakMb - before.rssMb).toBeLessThan(BOMB_RSS_GROWTH_MB_MAX);
    await expectAlive(fault.arc);
    expect(await written(database)).toBe(false);
  });

  it('refuses a gzip bomb wrapped in gzip with 400 (one layer is decompressed, the rest is not a payload)', async () => {
    const nested = gzipSync(gzipSync(Buffer.alloc(BOMB_MEMBER_BYTES), { level: 9 }), { level: 9 });
    const answer = await exchange(fault.arc.url, { path: '/write/v2/msgpack', headers: AUTH_HEADER, body: nested });
    expectError(answer, 400);
    await expectAlive(fault.arc);
  });
});
