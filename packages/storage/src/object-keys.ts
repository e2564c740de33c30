import { validateDatabaseName, validateMeasurementName } from '@arc/columnar';

/**
 * A measurement's small objects beside its data (`<database>/<measurement>/<directory>/<id><suffix>`:
 * schema objects, replace manifests): the parts of such a key, or null when the key is not one
 * (other directory or suffix, an id off `idPattern`, names that are not valid).
 */
export function parseMeasurementObjectKey(
  key: string,
  directory: string,
  suffix: string,
  idPattern: RegExp,
): { readonly database: string; readonly measurement: string; readonly id: string } | null {
  const parts = key.split('/');
  if (parts.length !== 4 || parts[2] !== directory) return null;
  const [database = '', measurement = '', , name = ''] = parts;
  if (!name.endsWith(suffix)) return null;
  const id = name.slice(0, -suffix.length);
  if (!idPattern.test(id) || validateDatabaseName(database) !== null || validateMeasurementName(measurement) !== null) return null;
  return { database, measurement, id };
}
