import { createHash, randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';
import type { ScryptOptions } from 'node:crypto';
import {
  LOOKUP_PREFIX_HEX_LENGTH,
  SCRYPT_KEY_BYTES,
  SCRYPT_MAXMEM_BYTES,
  SCRYPT_N,
  SCRYPT_P,
  SCRYPT_P_MAX,
  SCRYPT_R,
  SCRYPT_SALT_BYTES,
  TOKEN_BYTES,
  scryptMemoryBytes,
} from './limits.js';

/**
 * What is stored for a token. The text itself never is: only a salted scrypt hash (slow, so a
 * stolen arc.db does not give tokens away) and a short SHA-256 prefix to find the row.
 *
 *   scrypt$<N>$<r>$<p>$<salt, base64>$<hash, base64>
 *   e.g. scrypt$16384$8$1$q83vEjRWeJq83vEjRWeJqw==$Ck3m...=
 *
 * The parameters travel with each hash so that a later cost increase keeps old tokens valid.
 */
const HASH_SCHEME = 'scrypt';
const HASH_FIELD_COUNT = 6;

interface ScryptHash {
  readonly n: number;
  readonly r: number;
  readonly p: number;
  readonly salt: Buffer;
  readonly key: Buffer;
}

/**
 * A new token: 32 random bytes, base64url (43 characters, safe in headers and URLs), never
 * starting with '-': a command line reads `--token -abc...` as a missing value followed by an
 * option (Node's parseArgs refuses it as ambiguous), so one token in 64 would not work with
 * `arc --token` or the benchmarks. Drawing again costs 1/64 of the space's 256 bits.
 */
export function generateTokenText(): string {
  for (;;) {
    const token = randomBytes(TOKEN_BYTES).toString('base64url');
    if (!token.startsWith('-')) return token;
  }
}

/** SHA-256 of the token, hex. Cache key of the verifier: the token text is never a key. */
export function tokenDigestHex(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** The indexed lookup column: the first 16 hex characters of SHA-256(token). */
export function lookupPrefix(token: string): string {
  return tokenDigestHex(token).slice(0, LOOKUP_PREFIX_HEX_LENGTH);
}

function scryptOptions(hash: Pick<ScryptHash, 'n' | 'r' | 'p'>): ScryptOptions {
  return { N: hash.n, r: hash.r, p: hash.p, maxmem: SCRYPT_MAXMEM_BYTES };
}

type ScryptParams = Omit<ScryptHash, 'key'>;

/** Today's cost parameters with a fresh salt. */
function newScryptParams(): ScryptParams {
  return { n: SCRYPT_N, r: SCRYPT_R, p: SCRYPT_P, salt: randomBytes(SCRYPT_SALT_BYTES) };
}

function encodeHash(hash: ScryptHash): string {
  return [HASH_SCHEME, hash.n, hash.r, hash.p, hash.salt.toString('base64'), hash.key.toString('base64')].join('$');
}

/** Hashes a token with a fresh salt, blocking for one scrypt run: for the command line. */
export function hashTokenSync(token: string): string {
  const fresh = newScryptParams();
  return encodeHash({ ...fresh, key: scryptSync(token, fresh.salt, SCRYPT_KEY_BYTES, scryptOptions(fresh)) });
}

/**
 * Hashes a token with a fresh salt on libuv's thread pool: for the server, whose main thread
 * accepts every request and must not stop for one scrypt run (80-250 ms measured on the shared VM).
 */
export async function hashToken(token: string): Promise<string> {
  const fresh = newScryptParams();
  return encodeHash({ ...fresh, key: await scryptAsync(token, fresh, SCRYPT_KEY_BYTES) });
}

function positiveInt(text: string | undefined): number | null {
  if (text === undefined || !/^[1-9]\d{0,9}$/.test(text)) return null;
  return Number(text);
}

/** Reads a stored hash; null when it is malformed or its cost is out of bounds (a corrupt row). */
function parseHash(encoded: string): ScryptHash | null {
  const fields = encoded.split('$');
  if (fields.length !== HASH_FIELD_COUNT || fields[0] !== HASH_SCHEME) return null;
  const n = positiveInt(fields[1]);
  const r = positiveInt(fields[2]);
  const p = positiveInt(fields[3]);
  if (n === null || r === null || p === null) return null;
  if (n < 2 || (n & (n - 1)) !== 0 || p > SCRYPT_P_MAX) return null;
  if (scryptMemoryBytes(n, r, p) > SCRYPT_MAXMEM_BYTES) return null;
  // fields.length === HASH_FIELD_COUNT (checked above): fields 4 and 5 are there.
  const salt = Buffer.from(fields[4] as string, 'base64');
  const key = Buffer.from(fields[5] as string, 'base64');
  if (salt.length === 0 || key.length < 16 || key.length > 64) return null;
  return { n, r, p, salt, key };
}

function scryptAsync(token: string, params: ScryptParams, keyBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(token, params.salt, keyBytes, scryptOptions(params), (error, derived) => {
      if (error === null) resolve(derived);
      else reject(error);
    });
  });
}

/**
 * True when `token` matches the stored hash. scrypt runs on libuv's thread pool, so the event
 * loop keeps serving other requests; the comparison takes the same time wherever bytes differ.
 */
export async function verifyTokenHash(token: string, encoded: string): Promise<boolean> {
  const hash = parseHash(encoded);
  if (hash === null) return false;
  const derived = await scryptAsync(token, hash, hash.key.length);
  return derived.length === hash.key.length && timingSafeEqual(derived, hash.key);
}
