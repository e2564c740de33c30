/**
 * UTF-8 helpers for decoders that hold JavaScript strings (JSON): the exact encoded length of a
 * string without encoding it, and a cache of the encoded bytes of repeated short strings (tag
 * values), so that a value sent on every row is encoded once per table fill instead of per row.
 */
const utf8Encoder = new TextEncoder();

/** Strings longer than this are encoded each time: tag values are short, and the cache stays small. */
const CACHED_TEXT_CHARS_MAX = 64;
/** Entries before the cache is cleared and refilled: at most ~4096 * 192 bytes of keys and values. */
const CACHED_TEXTS_MAX = 4096;

/** Bytes of `text` as TextEncoder writes it (a lone surrogate becomes U+FFFD, 3 bytes). */
export function utf8ByteLength(text: string): number {
  let byteLength = 0;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code < 0x80) byteLength += 1;
    else if (code < 0x800) byteLength += 2;
    else if (code >= 0xd800 && code <= 0xdbff && index + 1 < text.length) {
      const next = text.charCodeAt(index + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        byteLength += 4;
        index++;
      } else {
        byteLength += 3;
      }
    } else {
      byteLength += 3;
    }
  }
  return byteLength;
}

/** The UTF-8 bytes of strings; the returned arrays are shared, callers copy and never write them. */
export class Utf8EncodingCache {
  private readonly bytesByText = new Map<string, Uint8Array>();

  encode(text: string): Uint8Array {
    if (text.length > CACHED_TEXT_CHARS_MAX) return utf8Encoder.encode(text);
    const cached = this.bytesByText.get(text);
    if (cached !== undefined) return cached;
    if (this.bytesByText.size >= CACHED_TEXTS_MAX) this.bytesByText.clear();
    const bytes = utf8Encoder.encode(text);
    this.bytesByText.set(text, bytes);
    return bytes;
  }
}
