// Proves a sealed secret opens only with the key it was sealed with: the same text seals differently
// each time (random IV), a key change is the typed key-mismatch error naming the setting, and a
// changed byte anywhere (header, IV, tag, ciphertext) or a cut is the corrupt error, never garbage.
import { describe, expect, it } from 'vitest';
import { ImporterErrorCode, SecretBox, generateSecretKey } from '@arc/importer';
import { errorOf } from './support/arc-error-of.js';


describe('SecretBox', () => {
  const box = new SecretBox(generateSecretKey(), 'import.secret_key');

  it('opens what it sealed, sealing the same text differently each time, without the text in the bytes', () => {
    const secret = 'p@ss wörd-0123456789';
    const first = box.seal(secret);
    const second = box.seal(secret);
    expect(first.equals(second)).toBe(false);
    expect(first.includes(Buffer.from(secret))).toBe(false);
    expect(box.open(first, 'the test secret')).toBe(secret);
    expect(box.open(second, 'the test secret')).toBe(secret);
    expect(box.open(box.seal(''), 'an empty secret')).toBe('');
  });

  it('refuses a secret sealed with another key with ARC_IMPORT_SECRET_KEY_MISMATCH naming the setting', () => {
    const other = new SecretBox(generateSecretKey(), '/data/import_secret.key');
    const error = errorOf(() => other.open(box.seal('token'), 'The secret of connection a'));
    expect(error.code).toBe(ImporterErrorCode.secretKeyMismatch);
    expect(error.message).toContain('import.secret_key');
    expect(error.message).toContain('/data/import_secret.key');
    expect(error.message).toContain('The secret of connection a');
  });

  it('refuses every changed byte and every cut as corrupt', () => {
    const sealed = box.seal('a token of some length');
    for (let offset = 0; offset < sealed.length; offset++) {
      const changed = Buffer.from(sealed);
      changed[offset] = (changed[offset] ?? 0) ^ 0x01;
      const error = errorOf(() => box.open(changed, 'it'));
      // A changed key id byte reads as another key; any other byte as damage.
      expect(error.code, `byte ${String(offset)}`).toBe(offset >= 1 && offset < 5 ? ImporterErrorCode.secretKeyMismatch : ImporterErrorCode.secretCorrupt);
    }
    for (let length = 0; length < sealed.length; length++) {
      expect(errorOf(() => box.open(sealed.subarray(0, length), 'it')).code, `cut at ${String(length)}`).toBe(ImporterErrorCode.secretCorrupt);
    }
  });
});
