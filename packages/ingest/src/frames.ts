import assert from 'node:assert/strict';
import { DATABASE_NAME_LENGTH_MAX } from '@arc/columnar';
import { truncateText, type ArcErrorShape } from '@arc/errors';
import type { LineProtocolPrecision } from '@arc/protocol';
import { COMPLETION_CODE_CHARS_MAX, COMPLETION_ERROR_BYTES_MAX, COMPLETION_MESSAGE_CHARS_MAX } from './limits.js';

/**
 * Frames exchanged between the acceptor (main thread) and a decoder through their rings.
 *
 *   request frame (acceptor -> decoder ring)
 *   0        4        5       6                8            16                 16+n
 *   | id u32 | format | flags | dbLength u16   | nowUs f64  | database (utf8)  | body ... |
 *   flags bit 0: the body is not in the frame but was posted on the decoder's body port
 *   (bodies larger than a ring frame), as a transferred ArrayBuffer.
 *   flags bit 1: a WAL replay; the database is followed by | stream u32 | seq f64 | (12 bytes)
 *   naming the entry, and the body is that entry's request body.
 *   flags bits 4-7: the line protocol timestamp precision (index into PRECISION_CODES).
 *
 *   completion frame (decoder -> acceptor ring)
 *   0        4         5       8             12
 *   | id u32 | outcome | pad   | rows u32    | error JSON (utf8, rejected only) |
 *   The error JSON is at most COMPLETION_ERROR_BYTES_MAX bytes, so a completion always fits.
 *
 * Multi-byte values are little-endian.
 */
export const PayloadFormat = { msgpack: 1, lineProtocol: 2, json: 3 } as const;
export type PayloadFormat = (typeof PayloadFormat)[keyof typeof PayloadFormat];

/** Line protocol precisions by their 4-bit code in the frame flags. */
const PRECISION_CODES: readonly LineProtocolPrecision[] = ['ns', 'us', 'ms', 's', 'm', 'h'];
const PRECISION_SHIFT = 4;

export const REQUEST_HEADER_BYTES = 16;
export const REQUEST_FLAG_EXTERNAL_BODY = 1;
export const REQUEST_FLAG_REPLAY = 2;
const REPLAY_POSITION_BYTES = 12;
const COMPLETION_HEADER_BYTES = 12;
const DATABASE_BYTES_MAX = 0xffff;
/** The largest completion frame encodeCompletion makes. */
export const COMPLETION_FRAME_BYTES_MAX = COMPLETION_HEADER_BYTES + COMPLETION_ERROR_BYTES_MAX;

// Database names are validated (bounded) before a request is framed; the u16 length must hold one.
assert.ok(DATABASE_NAME_LENGTH_MAX <= DATABASE_BYTES_MAX);

export interface RequestHeader {
  readonly requestId: number;
  readonly format: PayloadFormat;
  readonly externalBody: boolean;
  /** Line protocol only (msgpack frames carry 'ns'). */
  readonly precision: LineProtocolPrecision;
  readonly database: string;
  readonly nowUs: number;
  /** Byte offset of the body in the frame. */
  readonly bodyOffset: number;
  /** A WAL replay: the entry being replayed. */
  readonly replay: ReplayPosition | null;
}

/** A WAL entry's stream and seq (the same shape as the writer's WalPosition). */
export interface ReplayPosition {
  readonly stream: number;
  readonly seq: number;
}

/** The 4-bit code of a precision, as frames and WAL envelopes carry it. */
export function precisionCode(precision: LineProtocolPrecision): number {
  const code = PRECISION_CODES.indexOf(precision);
  assert.ok(code >= 0, 'known precision');
  return code;
}

/** The precision of a code, or null when the code is unknown. */
export function precisionOfCode(code: number): LineProtocolPrecision | null {
  return PRECISION_CODES[code] ?? null;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** What the acceptor knows of a write request besides its body. */
export interface RequestOptions {
  readonly format: PayloadFormat;
  readonly database: string;
  readonly nowUs: number;
  readonly precision: LineProtocolPrecision;
}

export function encodeRequestHeader(requestId: number, externalBody: boolean, options: RequestOptions, replay: ReplayPosition | null = null): Uint8Array {
  const { format, database, nowUs, precision } = options;
  const databaseBytes = encoder.encode(database);
  assert.ok(databaseBytes.byteLength <= DATABASE_BYTES_MAX);
  const replayBytes = replay === null ? 0 : REPLAY_POSITION_BYTES;
  const header = new Uint8Array(REQUEST_HEADER_BYTES + databaseBytes.byteLength + replayBytes);
  const view = new DataView(header.buffer);
  view.setUint32(0, requestId >>> 0, true);
  view.setUint8(4, format);
  const flags = (externalBody ? REQUEST_FLAG_EXTERNAL_BODY : 0) | (replay === null ? 0 : REQUEST_FLAG_REPLAY) | (precisionCode(precision) << PRECISION_SHIFT);
  view.setUint8(5, flags);
  view.setUint16(6, databaseBytes.byteLength, true);
  view.setFloat64(8, nowUs, true);
  header.set(databaseBytes, REQUEST_HEADER_BYTES);
  if (replay !== null) {
    const positionOffset = REQUEST_HEADER_BYTES + databaseBytes.byteLength;
    view.setUint32(positionOffset, replay.stream, true);
    view.setFloat64(positionOffset + 4, replay.seq, true);
  }
  return header;
}

/** Marks an encoded header's body as posted on the body port instead of carried in the frame. */
export function markExternalBody(header: Uint8Array): void {
  assert.ok(header.byteLength >= REQUEST_HEADER_BYTES, 'an encoded request header');
  header[5] = (header[5] as number) | REQUEST_FLAG_EXTERNAL_BODY; // byte 5 (flags) is inside the header
}

export function decodeRequestHeader(frame: Uint8Array): RequestHeader {
  assert.ok(frame.byteLength >= REQUEST_HEADER_BYTES, 'request frame shorter than its header');
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const databaseLength = view.getUint16(6, true);
  const flags = view.getUint8(5);
  const precision = PRECISION_CODES[flags >>> PRECISION_SHIFT];
  assert.ok(precision !== undefined, 'known precision code');
  const databaseEnd = REQUEST_HEADER_BYTES + databaseLength;
  const isReplay = (flags & REQUEST_FLAG_REPLAY) !== 0;
  const bodyOffset = databaseEnd + (isReplay ? REPLAY_POSITION_BYTES : 0);
  assert.ok(bodyOffset <= frame.byteLength, 'request frame shorter than its database name');
  const replay = isReplay ? { stream: view.getUint32(databaseEnd, true), seq: view.getFloat64(databaseEnd + 4, true) } : null;
  return {
    requestId: view.getUint32(0, true),
    format: view.getUint8(4) as PayloadFormat,
    externalBody: (flags & REQUEST_FLAG_EXTERNAL_BODY) !== 0,
    precision,
    nowUs: view.getFloat64(8, true),
    database: decoder.decode(frame.subarray(REQUEST_HEADER_BYTES, databaseEnd)),
    bodyOffset,
    replay,
  };
}

export interface Completion {
  readonly requestId: number;
  readonly rowCount: number;
  readonly error: ArcErrorShape | null;
}

export function encodeCompletion(completion: Completion): Uint8Array {
  const errorBytes = completion.error === null ? new Uint8Array(0) : encodeBoundedError(completion.error);
  const frame = new Uint8Array(COMPLETION_HEADER_BYTES + errorBytes.byteLength);
  const view = new DataView(frame.buffer);
  view.setUint32(0, completion.requestId >>> 0, true);
  view.setUint8(4, completion.error === null ? 0 : 1);
  view.setUint32(8, completion.rowCount >>> 0, true);
  frame.set(errorBytes, COMPLETION_HEADER_BYTES);
  return frame;
}

/**
 * An error as JSON of at most COMPLETION_ERROR_BYTES_MAX bytes: whole when it fits, else its kind,
 * its code and its message cut short (details dropped), so that any error becomes one answer.
 */
function encodeBoundedError(error: ArcErrorShape): Uint8Array {
  const whole = encoder.encode(JSON.stringify(error));
  if (whole.byteLength <= COMPLETION_ERROR_BYTES_MAX) return whole;
  const reduced: ArcErrorShape = {
    kind: error.kind,
    code: truncateText(error.code, COMPLETION_CODE_CHARS_MAX),
    message: truncateText(error.message, COMPLETION_MESSAGE_CHARS_MAX),
  };
  const bytes = encoder.encode(JSON.stringify(reduced));
  assert.ok(bytes.byteLength <= COMPLETION_ERROR_BYTES_MAX, 'a cut-down error fits its frame');
  return bytes;
}

export function decodeCompletion(frame: Uint8Array): Completion {
  assert.ok(frame.byteLength >= COMPLETION_HEADER_BYTES, 'completion frame shorter than its header');
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const rejected = view.getUint8(4) === 1;
  return {
    requestId: view.getUint32(0, true),
    rowCount: view.getUint32(8, true),
    error: rejected ? (JSON.parse(decoder.decode(frame.subarray(COMPLETION_HEADER_BYTES))) as ArcErrorShape) : null,
  };
}
