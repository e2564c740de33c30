/**
 * 32-bit FNV-1a, the one hash of Arc's in-memory tables (tag dictionaries, the decoders' name
 * cache, the encoder's ENUM interner, the measurement census, writer routing): a multiply and an
 * xor per unit, no allocation, good enough spread for power-of-two open addressing. Not for
 * anything an attacker may aim collisions at beyond slowing one table's probes.
 */
export const FNV1A_OFFSET_BASIS = 0x811c9dc5 | 0;
const FNV1A_PRIME = 0x01000193;

/**
 * FNV-1a of `bytes[start, end)`, as a signed 32-bit integer; `basis` picks an independent hash.
 * The range lies inside `bytes`: every caller hashes a name or value its scanner just bounded
 * (this runs once per tag value per row, so the bound is not asserted again here).
 */
export function fnv1aOfBytes(bytes: Uint8Array, start: number, end: number, basis: number = FNV1A_OFFSET_BASIS): number {
  let hash = basis;
  for (let index = start; index < end; index++) hash = Math.imul(hash ^ (bytes[index] as number), FNV1A_PRIME);
  return hash;
}

/** FNV-1a of a string's UTF-16 code units (names already decoded), as a signed 32-bit integer. */
export function fnv1aOfString(text: string, basis: number = FNV1A_OFFSET_BASIS): number {
  let hash = basis;
  for (let index = 0; index < text.length; index++) hash = Math.imul(hash ^ text.charCodeAt(index), FNV1A_PRIME);
  return hash;
}
