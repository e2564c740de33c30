/**
 * For decoders that hold JavaScript strings (JSON): a cache of the encoded bytes of repeated short
 * strings (tag values), so that a value sent on every row is encoded once per table fill instead
 * of per row. (A string's encoded length without encoding it is `Buffer.byteLength`.)
 */
const utf8Encoder = new TextEncoder();

/** Strings longer than this are encoded each time: tag values are short, and the cache stays small. */
const CACHED_TEXT_CHARS_MAX = 64;
/** Entries before the cache is cleared and refilled: at most ~4096 * 192 bytes of keys and values. */
const CACHED_TEXTS_MAX = 4096;

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
