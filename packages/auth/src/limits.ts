import assert from 'node:assert/strict';

/** Random bytes in a token; 256 bits cannot be guessed, so no rate limit is needed for safety. */
export const TOKEN_BYTES = 32;

/**
 * A presented token longer than this is refused before any hashing: an attacker must not make
 * the server hash megabytes. Generated tokens are 43 characters; presets must fit too.
 */
export const TOKEN_TEXT_LENGTH_MAX = 1024;

/** Hex characters of SHA-256(token) stored for lookup: 64 bits, so collisions never matter. */
export const LOOKUP_PREFIX_HEX_LENGTH = 16;

/**
 * scrypt cost for new hashes. N=2^14, r=8 needs 128 * N * r = 16 MiB and tens of milliseconds of
 * CPU per hash: cheap for one login, expensive for an offline guesser holding a copy of arc.db.
 * Stored hashes carry their own parameters, so raising these later keeps old tokens working.
 */
export const SCRYPT_N = 2 ** 14;
export const SCRYPT_R = 8;
export const SCRYPT_P = 1;
export const SCRYPT_SALT_BYTES = 16;
export const SCRYPT_KEY_BYTES = 32;
/**
 * Node refuses scrypt above `maxmem` (32 MiB by default); set explicitly. Parameters read from a
 * stored hash must fit in it too, so a corrupt row cannot make one verification cost gigabytes.
 */
export const SCRYPT_MAXMEM_BYTES = 256 * 1024 * 1024;
/** Largest p accepted from a stored hash: CPU time grows linearly with p. */
export const SCRYPT_P_MAX = 16;

/** Memory one scrypt run needs (OpenSSL's estimate: V is 128*r*N bytes, B is 128*r*p bytes). */
export function scryptMemoryBytes(n: number, r: number, p: number): number {
  return 128 * r * (n + p);
}

/**
 * Verified tokens kept in the verifier's cache. Each entry is a 64-character key and a shared
 * TokenInfo (well under 1 KiB), so the cap bounds the cache near 10 MiB.
 */
export const AUTH_CACHE_ENTRIES_MAX = 10_000;
/** Rejected tokens cached, in a separate map so that a flood of bad tokens never evicts good ones. */
export const AUTH_NEGATIVE_CACHE_ENTRIES_MAX = 10_000;
/** A rejected token is remembered briefly: long enough to absorb a retry storm, short enough
 * that a token created a moment ago starts working almost at once. */
export const AUTH_NEGATIVE_CACHE_TTL_MS = 5000;

/** `last_used_at` is written at most this often per token, so verification is not a write per request. */
export const LAST_USED_RESOLUTION_MS = 60_000;

export const TOKEN_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
export const TOKEN_DESCRIPTION_LENGTH_MAX = 1024;

/**
 * Bytes of the shared token table (token-table.ts) a node reads. A token is about 400 bytes of
 * JSON, so 16 MiB holds some 40,000 tokens; every node reads the whole object at each change, so
 * a corrupt or hostile object must not make it parse gigabytes.
 */
export const TOKEN_TABLE_BYTES_MAX = 16 * 1024 * 1024;

/** How long a statement waits for another connection's write lock on arc.db before failing. */
export const SQLITE_BUSY_TIMEOUT_MS = 5000;

assert.ok(scryptMemoryBytes(SCRYPT_N, SCRYPT_R, SCRYPT_P) <= SCRYPT_MAXMEM_BYTES);
assert.ok(SCRYPT_P <= SCRYPT_P_MAX);
assert.ok(LOOKUP_PREFIX_HEX_LENGTH <= 64);
assert.ok(AUTH_NEGATIVE_CACHE_TTL_MS > 0);
