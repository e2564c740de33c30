export { MsgpackDecoder } from './msgpack-decoder.js';
export type { DecodeContext, DecodeResult } from './msgpack-decoder.js';
export { decompressBody, detectCompression, Compression } from './decompress.js';
export { MsgpackReader, MsgpackKind, MsgpackFormatError } from './msgpack-reader.js';
export { LineProtocolDecoder, LINE_BYTES_MAX } from './line-protocol-decoder.js';
export type { LineProtocolContext } from './line-protocol-decoder.js';
export { LineProtocolPrecision, parsePrecision } from './line-protocol-precision.js';
export type { LineProtocolDialect } from './line-protocol-precision.js';
export { JsonDecoder, rfc3339ToMicros } from './json-decoder.js';
