import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';

/**
 * A single-producer / single-consumer ring of variable-size frames over a SharedArrayBuffer.
 * One thread writes, one other thread reads; no locks: the producer publishes a frame by
 * advancing `writePosition` with a release store after the bytes are in place, the consumer frees
 * it by advancing `readPosition` after it is done with the bytes (so it may decode straight from
 * the ring without copying).
 *
 *   SharedArrayBuffer layout
 *   +--------------------------+--------------------------+----------------------------------+
 *   | control (64 B)           | control (64 B)           | data (capacity bytes, power of 2) |
 *   | [0] writePosition (u32)  | [16] readPosition (u32)  |  frame | frame | ... | wrap | ... |
 *   | [1] closed flag          |                          |                                  |
 *   +--------------------------+--------------------------+----------------------------------+
 *   The two positions sit on separate cache lines: each is written by one thread only.
 *   Positions count bytes modulo 2^32; capacity divides 2^32, so `position & mask` is the offset.
 *
 *   frame: | payloadLength u32 LE | payload ... | padding to 8 |
 *   wrap marker: payloadLength = 0xFFFFFFFF, meaning "continue at offset 0".
 *
 * Waking the consumer is the caller's business (a `Doorbell`), so one doorbell can serve a
 * ring plus other event sources of the same consumer thread.
 *
 * Invariants: a frame is contiguous (never split at the end), is written whole or not at all,
 * and the producer never overwrites bytes the consumer has not released.
 */
const WRITE_POSITION_INDEX = 0;
const CLOSED_INDEX = 1;
const READ_POSITION_INDEX = 16;
const CONTROL_BYTES = 128;
const FRAME_HEADER_BYTES = 4;
const FRAME_ALIGNMENT_BYTES = 8;
const WRAP_MARKER = 0xffffffff;

export const RING_CAPACITY_BYTES_MIN = 4096;
/** Positions are u32 counters: the capacity must divide 2^32 and leave room for wrap detection. */
export const RING_CAPACITY_BYTES_MAX = 2 ** 30;

/** Buffer's copy of `source` into `target` at `targetStart`, for any Uint8Array source. */
function copyBytes(source: Uint8Array, target: Buffer, targetStart: number): void {
  const bytes = source instanceof Buffer ? source : Buffer.from(source.buffer, source.byteOffset, source.byteLength);
  bytes.copy(target, targetStart);
}

function alignFrame(byteLength: number): number {
  return (byteLength + FRAME_ALIGNMENT_BYTES - 1) & ~(FRAME_ALIGNMENT_BYTES - 1);
}

function isPowerOfTwo(value: number): boolean {
  return value > 0 && (value & (value - 1)) === 0;
}

export class SpscRing {
  readonly shared: SharedArrayBuffer;
  readonly capacityBytes: number;
  /** Largest payload `tryWrite` accepts: a quarter of the ring, so a wrap always leaves room. */
  readonly payloadBytesMax: number;
  private readonly control: Int32Array;
  private readonly data: Uint8Array;
  /** The data area as a Buffer, for Buffer's copy. */
  private readonly dataBytes: Buffer;
  private readonly view: DataView;
  private readonly mask: number;

  static create(capacityBytes: number): SpscRing {
    assert.ok(isPowerOfTwo(capacityBytes), 'ring capacity must be a power of two');
    assert.ok(capacityBytes >= RING_CAPACITY_BYTES_MIN, 'ring capacity below minimum');
    assert.ok(capacityBytes <= RING_CAPACITY_BYTES_MAX, 'ring capacity above maximum');
    return new SpscRing(new SharedArrayBuffer(CONTROL_BYTES + capacityBytes));
  }

  /** Attaches to a ring created in another thread. */
  constructor(shared: SharedArrayBuffer) {
    this.shared = shared;
    this.capacityBytes = shared.byteLength - CONTROL_BYTES;
    assert.ok(isPowerOfTwo(this.capacityBytes), 'ring capacity must be a power of two');
    this.payloadBytesMax = this.capacityBytes / 4 - FRAME_HEADER_BYTES - FRAME_ALIGNMENT_BYTES;
    this.mask = this.capacityBytes - 1;
    this.control = new Int32Array(shared, 0, CONTROL_BYTES / 4);
    this.data = new Uint8Array(shared, CONTROL_BYTES, this.capacityBytes);
    this.dataBytes = Buffer.from(shared, CONTROL_BYTES, this.capacityBytes);
    this.view = new DataView(shared, CONTROL_BYTES, this.capacityBytes);
  }

  /** Bytes written and not yet released by the consumer. */
  usedBytes(): number {
    return (Atomics.load(this.control, WRITE_POSITION_INDEX) - Atomics.load(this.control, READ_POSITION_INDEX)) >>> 0;
  }

  /**
   * Producer: whether a frame of `payloadBytes` fits now. Only the producer adds bytes, so a
   * true answer stays true until the producer's next write.
   */
  hasRoomFor(payloadBytes: number): boolean {
    if (payloadBytes > this.payloadBytesMax) return false;
    const writePosition = Atomics.load(this.control, WRITE_POSITION_INDEX) >>> 0;
    const readPosition = Atomics.load(this.control, READ_POSITION_INDEX) >>> 0;
    const freeBytes = this.capacityBytes - ((writePosition - readPosition) >>> 0);
    const frameBytes = alignFrame(FRAME_HEADER_BYTES + payloadBytes);
    const tailBytes = this.capacityBytes - (writePosition & this.mask);
    return (frameBytes > tailBytes ? tailBytes : 0) + frameBytes <= freeBytes;
  }

  /**
   * Producer: writes one frame made of `parts` (concatenated) if it fits now. Returns false when
   * the ring has no room (the caller tries another ring or answers 503); never blocks.
   */
  tryWrite(parts: readonly Uint8Array[]): boolean {
    let payloadBytes = 0;
    for (const part of parts) payloadBytes += part.byteLength;
    assert.ok(payloadBytes <= this.payloadBytesMax, 'frame larger than payloadBytesMax');
    if (!this.hasRoomFor(payloadBytes)) return false;
    const writePosition = Atomics.load(this.control, WRITE_POSITION_INDEX) >>> 0;
    const frameBytes = alignFrame(FRAME_HEADER_BYTES + payloadBytes);
    let offset = writePosition & this.mask;
    const tailBytes = this.capacityBytes - offset;
    const wrapBytes = frameBytes > tailBytes ? tailBytes : 0;
    if (wrapBytes > 0) {
      this.view.setUint32(offset, WRAP_MARKER, true);
      offset = 0;
    }
    this.view.setUint32(offset, payloadBytes, true);
    let cursor = offset + FRAME_HEADER_BYTES;
    for (const part of parts) {
      // Buffer's copy is a plain memmove; TypedArray.set into shared memory copies word by word
      // with relaxed atomics, the acceptor's largest user-space cost per request in a profile.
      copyBytes(part, this.dataBytes, cursor);
      cursor += part.byteLength;
    }
    // Release: the frame bytes are visible before the new position is.
    Atomics.store(this.control, WRITE_POSITION_INDEX, (writePosition + wrapBytes + frameBytes) | 0);
    return true;
  }

  /**
   * Consumer: the payload of the oldest unreleased frame, as a view into the ring, or null when
   * the ring is empty. The view stays valid until `release()`.
   */
  peek(): Uint8Array | null {
    const writePosition = Atomics.load(this.control, WRITE_POSITION_INDEX) >>> 0;
    let readPosition = Atomics.load(this.control, READ_POSITION_INDEX) >>> 0;
    if (writePosition === readPosition) return null;
    let offset = readPosition & this.mask;
    let payloadBytes = this.view.getUint32(offset, true);
    if (payloadBytes === WRAP_MARKER) {
      readPosition = (readPosition + this.capacityBytes - offset) >>> 0;
      Atomics.store(this.control, READ_POSITION_INDEX, readPosition | 0);
      offset = 0;
      payloadBytes = this.view.getUint32(0, true);
    }
    assert.ok(payloadBytes <= this.payloadBytesMax, 'corrupt ring frame length');
    return this.data.subarray(offset + FRAME_HEADER_BYTES, offset + FRAME_HEADER_BYTES + payloadBytes);
  }

  /** Consumer: frees the frame returned by the last `peek()`. */
  release(): void {
    const readPosition = Atomics.load(this.control, READ_POSITION_INDEX) >>> 0;
    const offset = readPosition & this.mask;
    const payloadBytes = this.view.getUint32(offset, true);
    assert.ok(payloadBytes !== WRAP_MARKER, 'release without peek');
    Atomics.store(this.control, READ_POSITION_INDEX, (readPosition + alignFrame(FRAME_HEADER_BYTES + payloadBytes)) | 0);
  }

  close(): void {
    Atomics.store(this.control, CLOSED_INDEX, 1);
  }

  isClosed(): boolean {
    return Atomics.load(this.control, CLOSED_INDEX) === 1;
  }
}
