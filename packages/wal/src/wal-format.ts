import assert from 'node:assert/strict';
import { crc32 } from 'node:zlib';
import { ENTRY_PAYLOAD_BYTES_MAX, ENVELOPE_DATABASE_BYTES_MAX } from './limits.js';

/**
 * The write-ahead log file format (Arc's own; docs/decisions.md), used by segments and flush journals.
 *
 *   file header, 7 bytes
 *   0                 4             6
 *   | 'A' 'R' 'C' 'W' | version u16 | checksum type u8 (1 = CRC32) |
 *
 *   entry, 16-byte header then the payload; integers big-endian
 *   0            4                  12             16
 *   | length u32 | timestamp us u64 | CRC32 u32    | payload (length bytes) ... |
 *   CRC32 is the IEEE polynomial (zlib's) over the payload only. The length is never 0 (every
 *   payload has at least its tag byte), so a header of zeros is no entry: a segment is written
 *   into space zeroed ahead (a spare file, docs/decisions.md), and reading stops where the zeros
 *   start. An all-zero header would pass the CRC check (the CRC32 of nothing is 0). Files of
 *   version 1 written before preallocation hold no empty entry either: the version stays 1.
 *
 *   segment entry payload: Arc's envelope, then our format tags, then the request as received
 *   0      1                 3                  3+n         4+n            5+n
 *   | 0x01 | database len u16 | database (utf8) | format u8 | precision u8 | request body ... |
 *   The entry timestamp is the request's arrival time, so a replayed row without a time of its
 *   own gets the same time it got the first time.
 *
 *   cancel entry payload: a request logged before its one writer refused it (docs/architecture.md)
 *   0      1                   9
 *   | 0x02 | cancelled seq u64 |
 *   Replay skips the cancelled entry and the cancel itself.
 */
export const FILE_MAGIC = Uint8Array.of(0x41, 0x52, 0x43, 0x57); // "ARCW"
export const FILE_VERSION = 1;
export const CHECKSUM_CRC32 = 1;
export const FILE_HEADER_BYTES = 7;
export const ENTRY_HEADER_BYTES = 16;
export const ENVELOPE_VERSION = 0x01;
export const CANCEL_TAG = 0x02;
const CANCEL_PAYLOAD_BYTES = 9;
const ENVELOPE_FIXED_BYTES = 5;

export function encodeFileHeader(): Uint8Array {
  const header = new Uint8Array(FILE_HEADER_BYTES);
  header.set(FILE_MAGIC, 0);
  const view = new DataView(header.buffer);
  view.setUint16(4, FILE_VERSION, false);
  view.setUint8(6, CHECKSUM_CRC32);
  return header;
}

/** Null when `bytes` starts with a valid header, else what is wrong with it. */
export function fileHeaderProblem(bytes: Uint8Array): string | null {
  if (bytes.byteLength < FILE_HEADER_BYTES) return `file shorter than its ${FILE_HEADER_BYTES}-byte header (${bytes.byteLength} bytes)`;
  for (let index = 0; index < FILE_MAGIC.byteLength; index++) {
    if (bytes[index] !== FILE_MAGIC[index]) return 'no ARCW magic at byte 0';
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, FILE_HEADER_BYTES);
  const version = view.getUint16(4, false);
  if (version !== FILE_VERSION) return `unsupported version ${version}`;
  const checksum = view.getUint8(6);
  if (checksum !== CHECKSUM_CRC32) return `unsupported checksum type ${checksum}`;
  return null;
}

/**
 * A buffer for a whole entry, not zeroed: every byte is written before use. A zero-filled
 * allocation of a 440 KB request measured 0.57 ms of CPU (fresh pages, faulted in and cleared)
 * against 0.09 ms here, which was most of what the WAL added per request.
 */
function entryBuffer(byteLength: number): Uint8Array {
  return Buffer.allocUnsafe(byteLength);
}

/** One entry (header + payload) in a single buffer, ready to be written. */
export function encodeEntry(timestampUs: number, payload: Uint8Array): Uint8Array {
  const entry = entryBuffer(ENTRY_HEADER_BYTES + payload.byteLength);
  entry.set(payload, ENTRY_HEADER_BYTES);
  sealEntry(entry, timestampUs);
  return entry;
}

/** Fills the header of an entry whose payload is already in place after ENTRY_HEADER_BYTES. */
export function sealEntry(entry: Uint8Array, timestampUs: number): void {
  const payload = entry.subarray(ENTRY_HEADER_BYTES);
  writeEntryHeader(entry, payload.byteLength, timestampUs, crc32(payload));
}

/** The 16-byte entry header at the start of `entry`: payload length, timestamp, CRC32. */
function writeEntryHeader(entry: Uint8Array, payloadBytes: number, timestampUs: number, checksum: number): void {
  assert.ok(entry.byteLength >= ENTRY_HEADER_BYTES, 'an entry holds its header');
  assert.ok(payloadBytes >= 1, 'no entry is empty: a zero length marks the zeroed end of a segment');
  assert.ok(payloadBytes <= ENTRY_PAYLOAD_BYTES_MAX, 'entry payload within the uint32 length');
  assert.ok(Number.isSafeInteger(timestampUs) && timestampUs >= 0, 'timestamp is whole microseconds');
  const view = new DataView(entry.buffer, entry.byteOffset, ENTRY_HEADER_BYTES);
  view.setUint32(0, payloadBytes, false);
  view.setBigUint64(4, BigInt(timestampUs), false);
  view.setUint32(12, checksum, false);
}

/** What a segment entry carries besides its timestamp: enough to re-run the same decoder. */
export interface RequestEnvelope {
  readonly database: string;
  /** The server's payload format tag (msgpack, line protocol, JSON). */
  readonly format: number;
  /** The server's line protocol precision code. */
  readonly precision: number;
  readonly body: Uint8Array;
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * A segment entry for a request as two parts to write one after the other: the entry header with
 * the envelope fields (a small new buffer), then the body itself, not copied. The CRC32 runs over
 * the envelope fields, then continues over the body: the bytes on disk are those of one buffer.
 * A decoder writes the body straight from its ring frame this way (docs/benchmarks.md, "WAL on vs
 * off": the copy of a 440 KB body cost more than its checksum).
 */
export function requestEntryParts(timestampUs: number, envelope: RequestEnvelope): readonly [Uint8Array, Uint8Array] {
  const database = utf8Encoder.encode(envelope.database);
  assert.ok(database.byteLength <= ENVELOPE_DATABASE_BYTES_MAX, 'database name fits the envelope');
  assert.ok(envelope.format >= 0 && envelope.format <= 0xff, 'format tag is a byte');
  assert.ok(envelope.precision >= 0 && envelope.precision <= 0xff, 'precision code is a byte');
  const envelopeBytes = ENVELOPE_FIXED_BYTES + database.byteLength;
  const head = entryBuffer(ENTRY_HEADER_BYTES + envelopeBytes);
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  let offset = ENTRY_HEADER_BYTES;
  view.setUint8(offset, ENVELOPE_VERSION);
  view.setUint16(offset + 1, database.byteLength, false);
  offset += 3;
  head.set(database, offset);
  offset += database.byteLength;
  view.setUint8(offset, envelope.format);
  view.setUint8(offset + 1, envelope.precision);
  const checksum = crc32(envelope.body, crc32(head.subarray(ENTRY_HEADER_BYTES)));
  writeEntryHeader(head, envelopeBytes + envelope.body.byteLength, timestampUs, checksum);
  return [head, envelope.body];
}

/** A whole segment entry for a request in one buffer (one copy of the body), checksummed. */
export function encodeRequestEntry(timestampUs: number, envelope: RequestEnvelope): Uint8Array {
  const [head, body] = requestEntryParts(timestampUs, envelope);
  const entry = entryBuffer(head.byteLength + body.byteLength);
  entry.set(head, 0);
  entry.set(body, head.byteLength);
  return entry;
}

/** The envelope of a segment entry's payload, or what is wrong with it. */
export function decodeRequestEnvelope(payload: Uint8Array): RequestEnvelope | string {
  if (payload.byteLength < ENVELOPE_FIXED_BYTES) return `payload of ${payload.byteLength} bytes is shorter than an envelope`;
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const version = view.getUint8(0);
  if (version !== ENVELOPE_VERSION) return `unknown envelope version ${version}`;
  const databaseBytes = view.getUint16(1, false);
  const formatOffset = 3 + databaseBytes;
  if (formatOffset + 2 > payload.byteLength) return `database length ${databaseBytes} runs past the payload`;
  let database: string;
  try {
    database = utf8Decoder.decode(payload.subarray(3, formatOffset));
  } catch {
    return 'database name is not UTF-8';
  }
  return { database, format: view.getUint8(formatOffset), precision: view.getUint8(formatOffset + 1), body: payload.subarray(formatOffset + 2) };
}

/** A whole cancel entry: the request logged at `seq` of the same stream is not to be replayed. */
export function encodeCancelEntry(timestampUs: number, seq: number): Uint8Array {
  assert.ok(Number.isSafeInteger(seq) && seq >= 1, 'a seq is a positive integer');
  const entry = entryBuffer(ENTRY_HEADER_BYTES + CANCEL_PAYLOAD_BYTES);
  const view = new DataView(entry.buffer, entry.byteOffset, entry.byteLength);
  view.setUint8(ENTRY_HEADER_BYTES, CANCEL_TAG);
  view.setBigUint64(ENTRY_HEADER_BYTES + 1, BigInt(seq), false);
  sealEntry(entry, timestampUs);
  return entry;
}

/** The seq a cancel entry's payload cancels, or null when the payload is not a cancel. */
export function cancelledSeqOf(payload: Uint8Array): number | null {
  if (payload.byteLength !== CANCEL_PAYLOAD_BYTES || payload[0] !== CANCEL_TAG) return null;
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  return Number(view.getBigUint64(1, false));
}
