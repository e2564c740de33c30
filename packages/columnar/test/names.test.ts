// Proves the name validators enforce the limits of limits.ts at their exact boundaries and that a
// refusal quotes a bounded piece of the name with its size and names the limit.
import { describe, expect, it } from 'vitest';
import {
  COLUMN_NAME_BYTES_MAX,
  DATABASE_NAME_LENGTH_MAX,
  MEASUREMENT_NAME_LENGTH_MAX,
  validateColumnName,
  validateDatabaseName,
  validateMeasurementName,
} from '../src/index.js';

const cases = [
  ['database', validateDatabaseName, DATABASE_NAME_LENGTH_MAX, 'ARC_BAD_DATABASE_NAME'],
  ['measurement', validateMeasurementName, MEASUREMENT_NAME_LENGTH_MAX, 'ARC_BAD_MEASUREMENT_NAME'],
  ['column', validateColumnName, COLUMN_NAME_BYTES_MAX, 'ARC_BAD_COLUMN_NAME'],
] as const;

describe.each(cases)('%s names', (detailKey, validate, limit, code) => {
  it('takes a name at the limit and refuses one a byte over', () => {
    expect(validate('a'.repeat(limit))).toBeNull();
    const error = validate('a'.repeat(limit + 1));
    expect(error?.code).toBe(code);
    expect(error?.message).toMatch(new RegExp(`' is longer than the limit of ${limit} bytes$`));
    expect(error?.details).toMatchObject({ limit_bytes: limit });
  });

  it('refuses a 200 KiB name with an error of a few hundred bytes', () => {
    const error = validate('a'.repeat(200 * 1024));
    expect(error?.code).toBe(code);
    expect(error?.message).toMatch(new RegExp(`^.* 'a{128}\\.\\.\\.\\(204800 bytes\\)' is longer than the limit of ${limit} bytes$`));
    expect(String(error?.details?.[detailKey]).length).toBeLessThan(160);
    expect(JSON.stringify(error?.toShape()).length).toBeLessThan(512);
  });
});

describe('column names count UTF-8 bytes', () => {
  it('refuses 86 three-byte characters (258 bytes) and takes 85 (255 bytes)', () => {
    expect(validateColumnName('€'.repeat(85))).toBeNull();
    expect(validateColumnName('€'.repeat(86))?.message).toBe(`Tag or field name '${'€'.repeat(86)}' is longer than the limit of 256 bytes`);
  });
});
