// Proves lent answer buffers: with sharing on, answers are written into SharedArrayBuffers that are
// reused once released, never while lent, with the same bytes as an answer of its own, and a
// cancelled or outgrown answer gives its buffer back. Runs the real encoders on DuckDB results.
import { describe, expect, it } from 'vitest';
import { MessageChannel } from 'node:worker_threads';
import { SHARED_ANSWERS_MAX, answerTransferList, enableSharedAnswers, isSharedAnswerBody, releaseAnswerBody } from '../src/answer-buffers.js';
import { sharedConnection } from './duckdb-connection.js';
import { encodeArrowAnswer } from '../src/arrow-answer.js';
import { encodeCsvAnswer } from '../src/csv-answer.js';
import { encodeJsonAnswer } from '../src/json-answer.js';
import { encodeMsgpackAnswer } from '../src/msgpack-answer.js';

const connection = sharedConnection();

const SQL = "SELECT i, 'row-' || i AS s, TIMESTAMP '2025-10-16 16:00:00' + INTERVAL (i) SECOND AS t FROM range(3000) t(i) ORDER BY i";
/** About 8 MB of CSV: more than a new lent buffer's first capacity (4 MiB). */
const LARGE_SQL = "SELECT i, repeat('x', 100) AS s FROM range(80000) t(i) ORDER BY i";
const NOT_CANCELLED = (): boolean => false;

async function csvAnswer(sql = SQL, isCancelled = NOT_CANCELLED): Promise<Uint8Array | null> {
  const answer = await encodeCsvAnswer(await connection().stream(sql), Infinity, isCancelled);
  return answer?.body ?? null;
}

function text(body: Uint8Array | null): string {
  if (body === null) throw new Error('no answer');
  return Buffer.from(body).toString('utf8');
}

describe('answer buffers', () => {
  it('are buffers of their own until sharing is enabled, then lent and reused only once released', async () => {
    const own = await csvAnswer();
    expect(own?.buffer instanceof SharedArrayBuffer).toBe(false);
    expect(isSharedAnswerBody(own ?? new Uint8Array(0))).toBe(false);
    // Releasing an answer with a buffer of its own does nothing.
    releaseAnswerBody(own ?? new Uint8Array(0));

    enableSharedAnswers();
    // One after the other (a connection streams one result at a time), none released yet.
    const lent: (Uint8Array | null)[] = [];
    for (let index = 0; index < SHARED_ANSWERS_MAX + 1; index++) lent.push(await csvAnswer());
    const shared = lent.filter((body) => body !== null && isSharedAnswerBody(body));
    expect(shared).toHaveLength(SHARED_ANSWERS_MAX);
    expect(new Set(shared.map((body) => body?.buffer)).size).toBe(SHARED_ANSWERS_MAX);
    expect(lent.every((body) => text(body) === text(own))).toBe(true);

    const first = shared[0] ?? new Uint8Array(0);
    const firstText = text(first);
    releaseAnswerBody(first);
    const next = await csvAnswer("SELECT 'another answer' AS x");
    expect(next?.buffer).toBe(first.buffer);
    expect(text(next)).toBe('x\r\nanother answer\r\n');
    // The other lent answer was not touched while the first buffer was reused.
    expect(text(shared[1] ?? null)).toBe(firstText);
    for (const body of [...shared, next]) releaseAnswerBody(body ?? new Uint8Array(0));
  });

  it('posts a lent answer to another thread without a copy, and one of its own by transfer', async () => {
    // Every lent buffer but one is taken, so the answer after the release must reuse that one.
    const held: Uint8Array[] = [];
    for (let index = 1; index < SHARED_ANSWERS_MAX; index++) held.push((await csvAnswer()) ?? new Uint8Array(0));
    const lent = (await csvAnswer()) ?? new Uint8Array(0);
    expect(isSharedAnswerBody(lent)).toBe(true);
    const own = new Uint8Array([1, 2, 3]);
    const { port1, port2 } = new MessageChannel();
    const received = new Promise<Uint8Array[]>((resolve) => port2.once('message', resolve));
    port1.postMessage([lent, own], [...answerTransferList(lent), ...answerTransferList(own)]);
    const [lentThere, ownThere] = await received;
    port1.close();
    expect(own.byteLength).toBe(0);
    expect(Array.from(ownThere ?? [])).toEqual([1, 2, 3]);
    // The same memory: a write on one side shows on the other.
    const first = lent[0] ?? 0;
    lent[0] = first ^ 0xff;
    expect(lentThere?.[0]).toBe(first ^ 0xff);
    lent[0] = first;
    expect(isSharedAnswerBody(lentThere ?? new Uint8Array(0))).toBe(true);
    // Released from the other side's view, the buffer is free for the next answer.
    releaseAnswerBody(lentThere ?? new Uint8Array(0));
    const reused = (await csvAnswer()) ?? new Uint8Array(0);
    expect(isSharedAnswerBody(reused)).toBe(true);
    for (const body of [...held, reused]) releaseAnswerBody(body);
  });

  it('moves a growing answer to a larger lent buffer, and takes back a cancelled answer\'s buffer', async () => {
    const large = await csvAnswer(LARGE_SQL);
    expect(isSharedAnswerBody(large ?? new Uint8Array(0))).toBe(true);
    expect(text(large).split('\r\n')).toHaveLength(80_002);
    releaseAnswerBody(large ?? new Uint8Array(0));

    let fetched = 0;
    expect(await csvAnswer(LARGE_SQL, () => ++fetched > 3)).toBeNull();
    // Every buffer is free again: SHARED_ANSWERS_MAX answers in a row are all lent.
    const again: (Uint8Array | null)[] = [];
    for (let index = 0; index < SHARED_ANSWERS_MAX; index++) again.push(await csvAnswer());
    expect(again.every((body) => body !== null && isSharedAnswerBody(body))).toBe(true);
    for (const body of again) releaseAnswerBody(body ?? new Uint8Array(0));
  });

  it('gives JSON, Arrow and msgpack answers lent buffers too', async () => {
    const encoders = [
      async () => encodeJsonAnswer(await connection().stream(SQL), 0, Infinity, NOT_CANCELLED),
      async () => encodeArrowAnswer(await connection().stream(SQL), Infinity, NOT_CANCELLED),
      async () => encodeMsgpackAnswer(await connection().stream(SQL), 0, Infinity, NOT_CANCELLED),
    ];
    for (const encode of encoders) {
      const answer = await encode();
      expect(answer?.rowCount).toBe(3000);
      expect(isSharedAnswerBody(answer?.body ?? new Uint8Array(0))).toBe(true);
      releaseAnswerBody(answer?.body ?? new Uint8Array(0));
    }
  });
});
