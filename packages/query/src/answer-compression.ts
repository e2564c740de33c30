import { gzipSync, constants as zlibConstants } from 'node:zlib';
import { compress as zstdCompress } from 'zstd-napi';

/**
 * Content-Encoding of an answer, chosen from the request's Accept-Encoding. Answers are compressed
 * in the query worker, so the acceptor thread never spends CPU on it.
 */
export const ANSWER_COMPRESSIONS = ['none', 'gzip', 'zstd'] as const;
export type AnswerCompression = (typeof ANSWER_COMPRESSIONS)[number];

/** Smaller answers go out as they are: compressing them saves less than it costs. */
export const COMPRESS_BYTES_MIN = 8 * 1024;
/** Fast levels: answers are compressed once per request, on the query path's latency. */
const GZIP_LEVEL = 1;
const ZSTD_LEVEL = 1;

/** Picks the encoding from an Accept-Encoding header: zstd first (faster, smaller), then gzip. */
export function compressionFor(acceptEncoding: string): AnswerCompression {
  const accepted = new Set<string>();
  for (const part of acceptEncoding.toLowerCase().split(',')) {
    const [name = '', ...parameters] = part.trim().split(';');
    const refused = parameters.some((parameter) => /^\s*q\s*=\s*0(?:\.0*)?\s*$/.test(parameter));
    if (name !== '' && !refused) accepted.add(name.trim());
  }
  if (accepted.has('zstd')) return 'zstd';
  if (accepted.has('gzip')) return 'gzip';
  return 'none';
}

/** The body compressed as asked, or null when it stays as it is (too small, or 'none'). */
export function compressAnswer(body: Uint8Array, compression: AnswerCompression): Uint8Array | null {
  if (compression === 'none' || body.byteLength < COMPRESS_BYTES_MIN) return null;
  if (compression === 'gzip') return gzipSync(body, { level: GZIP_LEVEL, strategy: zlibConstants.Z_DEFAULT_STRATEGY });
  return zstdCompress(body, { compressionLevel: ZSTD_LEVEL });
}
