// Proves a write carrying huge names (140,000 and 200 KiB characters, by JSON, MessagePack and
// line protocol) or a long line of control characters gets a short 400 JSON error naming the
// limit, and leaves the server up: a normal write and query work afterwards, and it stops cleanly.
import { describe, expect, it } from 'vitest';
import { msgpack, type HttpAnswer } from './support/arc-client.js';
import { useSharedArc } from './support/shared-arc.js';

const shared = useSharedArc();
/** An error body quotes at most a short piece of the input: far below the sizes sent here. */
const ERROR_BODY_BYTES_MAX = 4096;
const HUGE_LENGTHS = [140_000, 200 * 1024];

function expectShortRefusal(answer: HttpAnswer, code: string, message: RegExp): void {
  expect(answer.status, answer.text.slice(0, 300)).toBe(400);
  expect(answer.headers.get('content-type')).toBe('application/json');
  expect(answer.text.length).toBeLessThan(ERROR_BODY_BYTES_MAX);
  const body = answer.json() as { error: string; code: string };
  expect(body.code).toBe(code);
  expect(body.error).toMatch(message);
}

const json = (value: unknown): Uint8Array => Buffer.from(JSON.stringify(value));
const lineProtocol = (text: string): Uint8Array => Buffer.from(text);

describe('huge names are refused with a short 400, and the server stays up', () => {
  it.each(HUGE_LENGTHS)('a %i-character measurement name by JSON', async (length) => {
    const answer = await shared.client.write(json({ m: 'x'.repeat(length), fields: { a: 1 } }), { path: '/write/json', headers: { 'Content-Type': 'application/json' } });
    expectShortRefusal(answer, 'ARC_BAD_MEASUREMENT_NAME', new RegExp(`\\.\\.\\.\\(${length} bytes\\)' is longer than the limit of 128 bytes`));
  });

  it.each(HUGE_LENGTHS)('a %i-character measurement name by MessagePack', async (length) => {
    const answer = await shared.client.write(msgpack({ m: 'x'.repeat(length), t: 1, fields: { a: 1 } }));
    expectShortRefusal(answer, 'ARC_BAD_MEASUREMENT_NAME', /is longer than the limit of 128 bytes/);
  });

  it.each(HUGE_LENGTHS)('a %i-character measurement name by line protocol (over the line limit)', async (length) => {
    const answer = await shared.client.write(lineProtocol(`${'x'.repeat(length)} a=1`), { path: '/api/v1/write?db=default', headers: { 'Content-Type': 'text/plain' } });
    expectShortRefusal(answer, 'ARC_LP_LINE_TOO_LONG', /^unable to parse '.{0,128}\.\.\.\(\d+ bytes\)': line 1 is longer than 65536 bytes$/);
  });

  it('a 60,000-character measurement name by line protocol (within the line limit)', async () => {
    const answer = await shared.client.write(lineProtocol(`${'x'.repeat(60_000)} a=1`), { path: '/api/v1/write?db=default', headers: { 'Content-Type': 'text/plain' } });
    expectShortRefusal(answer, 'ARC_BAD_MEASUREMENT_NAME', /is longer than the limit of 128 bytes/);
  });

  it('a 60 KB line of control characters, quoted cut short', async () => {
    const body = Buffer.concat([Buffer.from('m f='), Buffer.alloc(60_000, 1)]);
    const answer = await shared.client.write(body, { path: '/api/v1/write?db=default', headers: { 'Content-Type': 'text/plain' } });
    // eslint-disable-next-line no-control-regex -- the quoted line is made of \x01 bytes on purpose
    expectShortRefusal(answer, 'ARC_LP_PARSE', /^unable to parse 'm f=\u0001+\.\.\.\(60004 bytes\)': invalid boolean$/);
  });

  it.each(HUGE_LENGTHS)('a %i-character tag key and field key by MessagePack', async (length) => {
    const name = 'k'.repeat(length);
    const tag = await shared.client.write(msgpack({ m: 'cpu', t: 1, tags: { [name]: 'a' }, fields: { a: 1 } }));
    expectShortRefusal(tag, 'ARC_BAD_COLUMN_NAME', /is longer than the limit of 256 bytes/);
    const field = await shared.client.write(msgpack({ m: 'cpu', t: 1, fields: { [name]: 1 } }));
    expectShortRefusal(field, 'ARC_BAD_COLUMN_NAME', /is longer than the limit of 256 bytes/);
  });

  it('a 3,000-character database name by header and by query parameter', async () => {
    const database = 'd'.repeat(3000);
    const byHeader = await shared.client.write(msgpack({ m: 'cpu', t: 1, fields: { a: 1 } }), { database });
    expectShortRefusal(byHeader, 'ARC_BAD_DATABASE_NAME', /\.\.\.\(3000 bytes\)' is longer than the limit of 64 bytes/);
    const byParameter = await shared.client.write(lineProtocol('cpu a=1'), { path: `/api/v1/write?db=${database}`, headers: { 'Content-Type': 'text/plain' } });
    expectShortRefusal(byParameter, 'ARC_BAD_DATABASE_NAME', /is longer than the limit of 64 bytes/);
  });

  it('still takes a normal write and answers a query afterwards', async () => {
    expect((await shared.client.write(json({ m: 'after_huge', t: 1_700_000_000_000, fields: { a: 1 } }), { path: '/write/json', headers: { 'Content-Type': 'application/json' } })).status).toBe(204);
    expect((await shared.client.flush()).status).toBe(200);
    expect(await shared.client.rows('SELECT a FROM after_huge')).toEqual([[1]]);
    expect(shared.arc.output()).not.toMatch(/crashed|AssertionError/);
  });
});
