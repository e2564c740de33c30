import assert from 'node:assert/strict';

/**
 * Where a finished answer's bytes go: a buffer of their own (transferred to the main thread), or,
 * once `enableSharedAnswers` was called, a SharedArrayBuffer the worker keeps and lends out.
 *
 * Why lend: on the benchmark machine the first write to a fresh page costs ~4-7 ns a byte against
 * ~0.15 ns for a page already touched (a 78 MB JSON answer: 300-650 ms of page faults, more than
 * writing the JSON takes). A transferred buffer is gone from the worker, so every answer paid it.
 * A lent buffer is shared (posting it copies nothing, nor does it detach), and the main thread
 * hands it back with `releaseAnswerBody` once the socket or the cache took the bytes; the worker
 * then writes the next answer into pages already touched.
 *
 *   SharedArrayBuffer: | lease (int32) | magic (int32) | answer bytes ...                |
 *                      0               4               8 = body.byteOffset
 *
 * A buffer still lent when an answer is finished is not waited for: that answer gets a fresh
 * buffer of its own, as without sharing.
 */

/** Buffers one worker lends at a time; a second lets it answer while the last answer is sent. */
export const SHARED_ANSWERS_MAX = 2;
/**
 * Largest answer written into a lent buffer; bigger ones get a fresh buffer. A lent buffer stays
 * resident at the size of the largest answer it carried, so this bounds the memory sharing costs:
 * SHARED_ANSWERS_MAX x SHARED_ANSWER_BYTES_MAX per worker at worst (256 MiB).
 */
export const SHARED_ANSWER_BYTES_MAX = 128 * 1024 * 1024;
const HEADER_BYTES = 8;
const LEASE_FREE = 0;
const LEASE_LENT = 1;
/** Marks a buffer as one of these, so `releaseAnswerBody` never writes into another shared buffer. */
const MAGIC = 0x4152_4341;
/** Capacities are rounded up to this, so buffers are reused across answers of similar size. */
const CAPACITY_STEP_BYTES = 4 * 1024 * 1024;

assert.ok(SHARED_ANSWER_BYTES_MAX % CAPACITY_STEP_BYTES === 0);

interface SharedAnswer {
  readonly buffer: SharedArrayBuffer;
  readonly lease: Int32Array;
}

let sharing = false;
const kept: SharedAnswer[] = [];

/** From now on this thread's answers go into lent buffers (the main thread must release them). */
export function enableSharedAnswers(): void {
  sharing = true;
}

/** A buffer of `byteCount` bytes for a finished answer, written by the caller. */
export function answerBody(byteCount: number): Uint8Array {
  const lent = leaseAnswerBuffer(byteCount);
  return lent === null ? new Uint8Array(byteCount) : lent.subarray(0, byteCount);
}

/**
 * A lent buffer of at least `byteCount` bytes (its whole capacity) to write an answer into, or
 * null when sharing is off, the size is beyond SHARED_ANSWER_BYTES_MAX or every buffer is lent.
 * The answer is its first bytes (a view from its start); a buffer not handed out as an answer
 * goes back with `returnAnswerBuffer`.
 */
export function leaseAnswerBuffer(byteCount: number): Uint8Array | null {
  if (!sharing || byteCount > SHARED_ANSWER_BYTES_MAX) return null;
  const shared = freeBuffer(byteCount);
  if (shared === null) return null;
  Atomics.store(shared.lease, 0, LEASE_LENT);
  return new Uint8Array(shared.buffer, HEADER_BYTES, shared.buffer.byteLength - HEADER_BYTES);
}

/** Takes back a buffer from `leaseAnswerBuffer` that was not handed out (a cancelled or grown answer). */
export function returnAnswerBuffer(buffer: Uint8Array): void {
  releaseAnswerBody(buffer);
}

/** A kept buffer not lent out and large enough, or a new one while fewer than the maximum exist. */
function freeBuffer(byteCount: number): SharedAnswer | null {
  let smallFree = -1;
  let largest: SharedAnswer | null = null;
  for (let index = 0; index < kept.length; index++) {
    const shared = kept[index];
    if (shared === undefined || Atomics.load(shared.lease, 0) !== LEASE_FREE) continue;
    if (shared.buffer.byteLength - HEADER_BYTES < byteCount) smallFree = index;
    // The largest free one, so an answer of unknown size rarely has to move to a larger one.
    else if (largest === null || shared.buffer.byteLength > largest.buffer.byteLength) largest = shared;
  }
  if (largest !== null) return largest;
  // A free buffer that is too small makes room for a larger one.
  if (smallFree >= 0) kept.splice(smallFree, 1);
  if (kept.length >= SHARED_ANSWERS_MAX) return null;
  const capacity = Math.ceil(byteCount / CAPACITY_STEP_BYTES) * CAPACITY_STEP_BYTES;
  const buffer = new SharedArrayBuffer(HEADER_BYTES + Math.max(capacity, CAPACITY_STEP_BYTES));
  const lease = new Int32Array(buffer, 0, 2);
  lease[1] = MAGIC;
  const shared = { buffer, lease };
  kept.push(shared);
  return shared;
}

/** True when `body` is a lent answer buffer (it must be released, and copied if kept). */
export function isSharedAnswerBody(body: Uint8Array): boolean {
  if (!(body.buffer instanceof SharedArrayBuffer) || body.byteOffset !== HEADER_BYTES) return false;
  return new Int32Array(body.buffer, 0, 2)[1] === MAGIC;
}

/**
 * Hands a lent answer buffer back to its worker once nothing reads `body` any more (uWS copied
 * what it did not send; a cache keeps its own copy). Does nothing for an answer with a buffer of
 * its own, so callers release every answer without looking.
 */
export function releaseAnswerBody(body: Uint8Array): void {
  if (!isSharedAnswerBody(body)) return;
  Atomics.store(new Int32Array(body.buffer, 0, 1), 0, LEASE_FREE);
}

/**
 * What to transfer when posting `body` to another thread: its buffer, or nothing for a lent
 * (shared) one, which postMessage refuses in a transfer list and shares without copying anyway.
 */
export function answerTransferList(body: Uint8Array): ArrayBuffer[] {
  return body.buffer instanceof SharedArrayBuffer ? [] : [body.buffer];
}
