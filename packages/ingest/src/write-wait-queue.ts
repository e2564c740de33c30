import assert from 'node:assert/strict';

/** What the queue needs to know of a parked write. */
export interface WaitingWrite {
  /** Body bytes the request holds (as received). */
  readonly bytes: number;
  /** Order of arrival: the queue hands requests over in this order. */
  readonly arrivalSeq: number;
  /** When the request stops waiting and is answered 503 (same clock as the caller's `nowMs`). */
  readonly deadlineMs: number;
}

/**
 * The acceptor's bounded wait for room: write requests whose bytes are read but that no decoder
 * ring (or no write buffer) can take yet wait here, first come first served, each until its
 * deadline. The queue also counts every byte the acceptor holds for writes not yet answered
 * (parked plus handed to decoders), and admits a new request only while that stays within
 * `bytesHeldMax`: back-pressure is a wait while there is room, a refusal past the bound.
 *
 * Deadlines are arrival time plus one maximum wait, so they grow with `arrivalSeq` and the
 * expired requests are always at the front. A request that went to a decoder and came back
 * (its writer's buffers were full) is parked again in its arrival place, ahead of later ones.
 */
export class WriteWaitQueue<T extends WaitingWrite> {
  readonly bytesHeldMax: number;
  #bytesHeld = 0;
  #bytesParked = 0;
  /** Sorted by arrivalSeq (and so by deadline). */
  readonly #parked: T[] = [];

  constructor(bytesHeldMax: number) {
    assert.ok(Number.isSafeInteger(bytesHeldMax) && bytesHeldMax > 0, 'a positive byte bound');
    this.bytesHeldMax = bytesHeldMax;
  }

  /** Requests waiting now. */
  get parkedCount(): number {
    return this.#parked.length;
  }

  get bytesParked(): number {
    return this.#bytesParked;
  }

  /** Bytes of every admitted request not yet released (parked and in flight). */
  get bytesHeld(): number {
    return this.#bytesHeld;
  }

  /**
   * Counts `bytes` of a new request as held if they fit the bound. With nothing held a request
   * is always admitted, so a bound below one request's size slows writes down to one at a time
   * instead of refusing every one of them.
   */
  admit(bytes: number): boolean {
    assert.ok(bytes >= 0, 'a byte count');
    if (this.#bytesHeld > 0 && this.#bytesHeld + bytes > this.bytesHeldMax) return false;
    this.#bytesHeld += bytes;
    return true;
  }

  /** An admitted request was answered: its bytes are no longer held. */
  release(bytes: number): void {
    assert.ok(bytes <= this.#bytesHeld, 'release only what was admitted');
    this.#bytesHeld -= bytes;
  }

  /** Parks an admitted request in its arrival place (usually the end). */
  park(entry: T): void {
    assert.ok(this.#bytesParked + entry.bytes <= this.#bytesHeld, 'a parked request was admitted');
    let index = this.#parked.length;
    while (index > 0 && (this.#parked[index - 1] as T).arrivalSeq > entry.arrivalSeq) index--;
    this.#parked.splice(index, 0, entry);
    this.#bytesParked += entry.bytes;
  }

  /** The oldest parked request, left in place. */
  peek(): T | undefined {
    return this.#parked[0];
  }

  /** Takes the oldest parked request out (it stays admitted until `release`). */
  shift(): T | undefined {
    const entry = this.#parked.shift();
    if (entry !== undefined) this.#bytesParked -= entry.bytes;
    return entry;
  }

  /** The deadline of the oldest parked request (the earliest of all), or null when none waits. */
  nextDeadlineMs(): number | null {
    return this.#parked[0]?.deadlineMs ?? null;
  }

  /** Takes out every parked request whose deadline is at or before `nowMs`, oldest first. */
  takeExpired(nowMs: number): T[] {
    let count = 0;
    while (count < this.#parked.length && (this.#parked[count] as T).deadlineMs <= nowMs) count++;
    return this.#take(count);
  }

  /** Takes out every parked request, oldest first (a stop answers them). */
  takeAll(): T[] {
    return this.#take(this.#parked.length);
  }

  #take(count: number): T[] {
    const taken = this.#parked.splice(0, count);
    for (const entry of taken) this.#bytesParked -= entry.bytes;
    return taken;
  }
}
