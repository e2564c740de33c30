import { Unpackr } from 'msgpackr';
import type { ColumnarResult } from './series.js';

/**
 * int64 beyond 32 bits decode as bigint (exact), the rest as numbers. Binary values are copied:
 * the answer's bytes may be a buffer the query worker lent, handed back right after decoding.
 */
const unpackr = new Unpackr({ mapsAsObjects: true, int64AsType: 'bigint', copyBuffers: true });

/** Decodes Arc's columnar msgpack query answer (`format: "msgpack"`) into columns and values. */
export function decodeColumnarAnswer(body: Uint8Array): ColumnarResult {
  const answer = unpackr.unpack(body) as { columns?: unknown; data?: unknown };
  if (!Array.isArray(answer.columns) || !Array.isArray(answer.data)) throw new Error('the query answer is not Arc\'s columnar msgpack shape');
  return { columns: answer.columns.map(String), data: answer.data as ColumnarResult['data'] };
}
