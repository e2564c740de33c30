import { createRequire } from 'node:module';
import { gunzipSync } from 'node:zlib';
import { ArcError, ErrorKind, badRequest } from '@arc/errors';
import { ProtocolErrorCode } from './error-codes.js';

/**
 * Request bodies may be gzip or zstd compressed; the codec is detected from magic bytes, not from
 * headers (clients get Content-Encoding wrong). The decompressed size is bounded while
 * decompressing, so a small "zip bomb" cannot allocate more than `bytesMax`.
 */
const GZIP_MAGIC = [0x1f, 0x8b] as const;
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd] as const;
/** zstd output is produced in chunks of this size (a compromise of copies vs. over-allocation). */
const ZSTD_OUTPUT_CHUNK_BYTES = 1024 * 1024;

interface ZstdDecompressionContext {
  decompressStream(destination: Uint8Array, source: Uint8Array): [number, number, number];
}
const zstdBinding = createRequire(import.meta.url)('zstd-napi/binding') as {
  DCtx: new () => ZstdDecompressionContext;
};

export const Compression = { none: 'none', gzip: 'gzip', zstd: 'zstd' } as const;
export type Compression = (typeof Compression)[keyof typeof Compression];

function startsWith(body: Uint8Array, magic: readonly number[]): boolean {
  if (body.byteLength < magic.length) return false;
  return magic.every((byte, index) => body[index] === byte);
}

export function detectCompression(body: Uint8Array): Compression {
  if (startsWith(body, GZIP_MAGIC)) return Compression.gzip;
  if (startsWith(body, ZSTD_MAGIC)) return Compression.zstd;
  return Compression.none;
}

function tooLarge(bytesMax: number): ArcError {
  return new ArcError(
    ErrorKind.tooLarge,
    ProtocolErrorCode.payloadTooLarge,
    `Payload exceeds ${bytesMax} bytes after decompression`,
    { limit_bytes: bytesMax },
  );
}

/** Node's zlib refuses to inflate past `maxOutputLength` with this code (a RangeError). */
const OUTPUT_TOO_LARGE_CODE = 'ERR_BUFFER_TOO_LARGE';

function isOutputTooLarge(error: unknown): boolean {
  return error instanceof RangeError && 'code' in error && error.code === OUTPUT_TOO_LARGE_CODE;
}

function gunzipBounded(body: Uint8Array, bytesMax: number): Uint8Array | ArcError {
  try {
    return gunzipSync(body, { maxOutputLength: bytesMax });
  } catch (error) {
    if (isOutputTooLarge(error)) return tooLarge(bytesMax);
    return badRequest(ProtocolErrorCode.badCompression, `Invalid gzip body: ${(error as Error).message}`);
  }
}

function unzstdBounded(body: Uint8Array, bytesMax: number): Uint8Array | ArcError {
  const context = new zstdBinding.DCtx();
  const chunks: Uint8Array[] = [];
  let totalBytes = 0;
  let sourceOffset = 0;
  let frameRemaining = 1;
  try {
    while (sourceOffset < body.byteLength || frameRemaining !== 0) {
      const output = new Uint8Array(ZSTD_OUTPUT_CHUNK_BYTES);
      const [remaining, produced, consumed] = context.decompressStream(output, body.subarray(sourceOffset));
      frameRemaining = remaining;
      sourceOffset += consumed;
      totalBytes += produced;
      if (totalBytes > bytesMax) return tooLarge(bytesMax);
      if (produced > 0) chunks.push(output.subarray(0, produced));
      if (produced === 0 && consumed === 0) {
        return badRequest(ProtocolErrorCode.badCompression, 'Invalid zstd body: truncated frame');
      }
    }
  } catch (error) {
    return badRequest(ProtocolErrorCode.badCompression, `Invalid zstd body: ${(error as Error).message}`);
  }
  return Buffer.concat(chunks, totalBytes);
}

/** The body decompressed (or as is), bounded by `bytesMax`; 413/400 errors as values. */
export function decompressBody(body: Uint8Array, bytesMax: number): Uint8Array | ArcError {
  switch (detectCompression(body)) {
    case Compression.gzip:
      return gunzipBounded(body, bytesMax);
    case Compression.zstd:
      return unzstdBounded(body, bytesMax);
    case Compression.none:
      return body.byteLength > bytesMax ? tooLarge(bytesMax) : body;
  }
}
