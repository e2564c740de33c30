export { MsgpackDecoder } from './msgpack-decoder.js';
export type { DecodeContext, DecodeResult } from './msgpack-decoder.js';
export { decompressBody, detectCompression, Compression } from './decompress.js';
export { MsgpackReader, MsgpackKind, MsgpackFormatError } from './msgpack-reader.js';
