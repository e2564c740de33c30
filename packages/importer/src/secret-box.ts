import assert from 'node:assert/strict';
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { ArcError, ErrorKind } from '@arc/errors';
import { ImporterErrorCode } from './error-codes.js';

/**
 * Connection secrets (passwords, tokens) sealed at rest with AES-256-GCM. A sealed secret:
 *
 *   0        1                5                  17                  33
 *   +--------+----------------+------------------+-------------------+----------------+
 *   | format | key id (4 B)   | IV (12 B, random) | GCM tag (16 B)   | ciphertext ... |
 *   +--------+----------------+------------------+-------------------+----------------+
 *
 * The key id is the start of HMAC-SHA256(key, KEY_ID_LABEL): it tells "sealed with another key"
 * (a changed `import.secret_key`, a lost key file) from "damaged", so a key change is a clear error
 * naming the setting, never garbage. It says nothing usable about the key. Format and key id are
 * the GCM additional data: a header changed by hand fails the tag like the ciphertext would.
 */

export const SECRET_KEY_BYTES = 32;
const FORMAT_VERSION = 1;
const KEY_ID_BYTES = 4;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + KEY_ID_BYTES;
const CIPHERTEXT_OFFSET = HEADER_BYTES + IV_BYTES + TAG_BYTES;
const KEY_ID_LABEL = 'arc import secret key id';

/** Where the key comes from, as the errors name it. */
export const SECRET_KEY_SETTING = 'import.secret_key';

export function generateSecretKey(): Buffer {
  return randomBytes(SECRET_KEY_BYTES);
}

export class SecretBox {
  readonly #key: Buffer;
  readonly #keyId: Buffer;
  /** Where the key came from (the setting, or the key file), for the mismatch error. */
  readonly #keySource: string;

  constructor(key: Uint8Array, keySource: string) {
    assert.equal(key.byteLength, SECRET_KEY_BYTES, 'an AES-256 key is 32 bytes');
    this.#key = Buffer.from(key);
    this.#keyId = createHmac('sha256', this.#key).update(KEY_ID_LABEL).digest().subarray(0, KEY_ID_BYTES);
    this.#keySource = keySource;
  }

  seal(secret: string): Buffer {
    const header = Buffer.alloc(HEADER_BYTES);
    header.writeUInt8(FORMAT_VERSION, 0);
    this.#keyId.copy(header, 1);
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(header);
    const ciphertext = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return Buffer.concat([header, iv, cipher.getAuthTag(), ciphertext]);
  }

  /** The secret `sealed` holds; throws ARC_IMPORT_SECRET_KEY_MISMATCH or ARC_IMPORT_SECRET_CORRUPT (`what` names it). */
  open(sealed: Uint8Array, what: string): string {
    const bytes = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
    if (bytes.length < CIPHERTEXT_OFFSET || bytes.readUInt8(0) !== FORMAT_VERSION) throw corrupt(what, `not a sealed secret of format ${String(FORMAT_VERSION)}`);
    if (!bytes.subarray(1, HEADER_BYTES).equals(this.#keyId)) throw this.mismatch(what);
    const decipher = createDecipheriv('aes-256-gcm', this.#key, bytes.subarray(HEADER_BYTES, HEADER_BYTES + IV_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(bytes.subarray(0, HEADER_BYTES));
    decipher.setAuthTag(bytes.subarray(HEADER_BYTES + IV_BYTES, CIPHERTEXT_OFFSET));
    try {
      return Buffer.concat([decipher.update(bytes.subarray(CIPHERTEXT_OFFSET)), decipher.final()]).toString('utf8');
    } catch {
      throw corrupt(what, 'its authentication tag does not match');
    }
  }

  private mismatch(what: string): ArcError {
    return new ArcError(
      ErrorKind.internal,
      ImporterErrorCode.secretKeyMismatch,
      `${what} was sealed with another key than the one from ${this.#keySource}: set ${SECRET_KEY_SETTING} to the key the import connections were stored with (or restore the key file it was generated into)`,
      { setting: SECRET_KEY_SETTING },
    );
  }
}

function corrupt(what: string, why: string): ArcError {
  return new ArcError(ErrorKind.internal, ImporterErrorCode.secretCorrupt, `${what} cannot be opened: ${why} (the file was damaged or changed by hand; store the secret again)`);
}
