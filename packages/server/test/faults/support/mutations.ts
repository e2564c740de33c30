// Byte-level mutations of valid request bodies for the fuzzing fault tests: flip, insert (a hostile
// token or random bytes), delete, truncate and duplicate at a random offset, 1 to N times. The same
// engine mutates MessagePack, line protocol, JSON, SQL and InfluxQL; each caller brings the tokens
// that stress its decoder.
import fc from 'fast-check';

type Mutation =
  | { readonly kind: 'flip'; readonly at: number; readonly value: number }
  | { readonly kind: 'insert'; readonly at: number; readonly bytes: Uint8Array }
  | { readonly kind: 'delete'; readonly at: number; readonly length: number }
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'duplicate'; readonly at: number; readonly length: number };

function mutationOf(tokens: readonly Uint8Array[]): fc.Arbitrary<Mutation> {
  return fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.oneof(fc.constantFrom(...tokens), fc.uint8Array({ minLength: 1, maxLength: 12 })) }),
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 24 }) }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 64 }) }),
  );
}

function mutate(body: Uint8Array, change: Mutation): Uint8Array {
  const at = change.at % (body.byteLength + 1);
  const bytes = Buffer.from(body);
  switch (change.kind) {
    case 'flip':
      if (at < bytes.byteLength) bytes[at] = change.value;
      return bytes;
    case 'insert':
      return Buffer.concat([bytes.subarray(0, at), change.bytes, bytes.subarray(at)]);
    case 'delete':
      return Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + change.length)]);
    case 'truncate':
      return bytes.subarray(0, at);
    case 'duplicate':
      return Buffer.concat([bytes.subarray(0, at + change.length), bytes.subarray(at)]);
  }
}

/** One of `seeds`, changed 1 to `changesMax` times, inserting `tokens` among random bytes. */
export function mutatedBytes(seeds: readonly Uint8Array[], tokens: readonly Uint8Array[], changesMax = 4): fc.Arbitrary<Uint8Array> {
  return fc.tuple(fc.constantFrom(...seeds), fc.array(mutationOf(tokens), { minLength: 1, maxLength: changesMax })).map(([seed, changes]) => changes.reduce(mutate, seed));
}

export const utf8 = (value: string): Uint8Array => Uint8Array.from(Buffer.from(value));

/** The same for text (SQL, InfluxQL, URL parameters): decoded back as UTF-8, invalid bytes and all. */
export function mutatedText(seeds: readonly string[], tokens: readonly string[], changesMax = 3): fc.Arbitrary<string> {
  return mutatedBytes(seeds.map(utf8), tokens.map(utf8), changesMax).map((bytes) => Buffer.from(bytes).toString('utf8'));
}
