import assert from 'node:assert/strict';
import type { ArcErrorShape } from '@arc/config';
import type { LineProtocolPrecision } from '@arc/protocol';

/**
 * Frames exchanged between the acceptor (main thread) and a decoder through their rings.
 *
 *   request frame (acceptor -> decoder ring)
 *   0        4        5       6                8            16                 16+n
 *   | id u32 | format | flags | dbLength u16   | nowUs f64  | database (utf8)  | body ... |
 *   flags bit 0: the body is not in the frame but was posted on the decoder's body port
 *   (bodies larger than a ring frame), as a transferred ArrayBuffer.
 *   flags bits 4-7: the line protocol timestamp precision (index into PRECISION_CODES).
 *
 *   completion frame (decoder -> acceptor ring)
 *   0        4         5       8             12
 *   | id u32 | outcome | pad   | rows u32    | error JSON (utf8, rejected only) |
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
const COMPLETION_HEADER_BYTES = 12;
const DATABASE_BYTES_MAX = 0xffff;

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

export function encodeRequestHeader(requestId: number, externalBody: boolean, options: RequestOptions): Uint8Array {
  const { format, database, nowUs, precision } = options;
  const precisionCode = PRECISION_CODES.indexOf(precision);
  assert.ok(precisionCode >= 0, 'known precision');
  const databaseBytes = encoder.encode(database);
  assert.ok(databaseBytes.byteLength <= DATABASE_BYTES_MAX);
  const header = new Uint8Array(REQUEST_HEADER_BYTES + databaseBytes.byteLength);
  const view = new DataView(header.buffer);
  view.setUint32(0, requestId >>> 0, true);
  view.setUint8(4, format);
  view.setUint8(5, (externalBody ? REQUEST_FLAG_EXTERNAL_BODY : 0) | (precisionCode << PRECISION_SHIFT));
  view.setUint16(6, databaseBytes.byteLength, true);
  view.setFloat64(8, nowUs, true);
  header.set(databaseBytes, REQUEST_HEADER_BYTES);
  return header;
}

/** Marks an encoded header's body as posted on the body port instead of carried in the frame. */
export function markExternalBody(header: Uint8Array): void {
  assert.ok(header.byteLength >= REQUEST_HEADER_BYTES, 'an encoded request header');
  header[5] = (header[5] ?? 0) | REQUEST_FLAG_EXTERNAL_BODY;
}

export function decodeRequestHeader(frame: Uint8Array): RequestHeader {
  assert.ok(frame.byteLength >= REQUEST_HEADER_BYTES, 'request frame shorter than its header');
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const databaseLength = view.getUint16(6, true);
  const flags = view.getUint8(5);
  const precision = PRECISION_CODES[flags >>> PRECISION_SHIFT];
  assert.ok(precision !== undefined, 'known precision code');
  const bodyOffset = REQUEST_HEADER_BYTES + databaseLength;
  assert.ok(bodyOffset <= frame.byteLength, 'request frame shorter than its database name');
  return {
    requestId: view.getUint32(0, true),
    format: view.getUint8(4) as PayloadFormat,
    externalBody: (flags & REQUEST_FLAG_EXTERNAL_BODY) !== 0,
    precision,
    nowUs: view.getFloat64(8, true),
    database: decoder.decode(frame.subarray(REQUEST_HEADER_BYTES, bodyOffset)),
    bodyOffset,
  };
}

export interface Completion {
  readonly requestId: number;
  readonly rowCount: number;
  readonly error: ArcErrorShape | null;
}

export function encodeCompletion(completion: Completion): Uint8Array {
  const errorBytes = completion.error === null ? new Uint8Array(0) : encoder.encode(JSON.stringify(completion.error));
  const frame = new Uint8Array(COMPLETION_HEADER_BYTES + errorBytes.byteLength);
  const view = new DataView(frame.buffer);
  view.setUint32(0, completion.requestId >>> 0, true);
  view.setUint8(4, completion.error === null ? 0 : 1);
  view.setUint32(8, completion.rowCount >>> 0, true);
  frame.set(errorBytes, COMPLETION_HEADER_BYTES);
  return frame;
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
