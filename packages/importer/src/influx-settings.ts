import { ArcError, ErrorKind } from '@arc/errors';
import { ImporterErrorCode } from './error-codes.js';

/**
 * Checks shared by the InfluxDB 1.x and 2.x drivers: the server's URL, names, and what a job reads
 * (`measurements`, `measurement_prefix`). Each refusal is a 400 naming the field.
 */

export function badSetting(field: string, message: string): ArcError {
  return new ArcError(ErrorKind.badRequest, ImporterErrorCode.badSettings, `${field}: ${message}`, { field });
}

/** `value` as a plain object; `what` names it in the refusal. */
export function objectOf(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badSetting(what, 'must be a JSON object');
  return value as Record<string, unknown>;
}

/** Refuses keys the driver does not know, so a misspelt option is not silently ignored. */
export function refuseUnknownKeys(object: Record<string, unknown>, known: readonly string[], what: string): void {
  for (const key of Object.keys(object)) {
    if (!known.includes(key)) throw badSetting(`${what}.${key}`, `is not a known key (known: ${known.join(', ')})`);
  }
}

export function nameOf(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') throw badSetting(field, 'must be a non-empty string');
  return value;
}

/** An http(s) URL without credentials (the password or token is the connection's secret), without a trailing slash. */
export function serverUrlOf(value: unknown, field: string): string {
  const text = nameOf(value, field);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw badSetting(field, `'${text}' is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw badSetting(field, `'${text}' must be an http:// or https:// URL`);
  if (url.username !== '' || url.password !== '') throw badSetting(field, 'must not hold credentials: give the password or token as the secret');
  if (url.search !== '' || url.hash !== '') throw badSetting(field, 'must not have a query or fragment');
  return url.href.replace(/\/+$/, '');
}

export interface InfluxJobSource {
  /** The source measurements to read; null = every measurement the database or bucket has when a run starts. */
  readonly measurements: readonly string[] | null;
  /** Put before each source measurement's name to make the destination's name. */
  readonly measurementPrefix: string;
}

/**
 * What an InfluxDB job reads: `{ measurements?: string[], measurement_prefix?: string }`, and for
 * InfluxDB 1.x `retention_policy?: string` (2.x has none: a bucket is a database and its policy).
 */
export function checkInfluxJobSource(source: unknown, version: 1 | 2): Record<string, unknown> {
  const object = source === undefined || source === null ? {} : objectOf(source, 'source');
  refuseUnknownKeys(object, version === 1 ? ['measurements', 'measurement_prefix', 'retention_policy'] : ['measurements', 'measurement_prefix'], 'source');
  const checked: Record<string, unknown> = {};
  if (object.retention_policy !== undefined) checked.retention_policy = nameOf(object.retention_policy, 'source.retention_policy');
  if (object.measurements !== undefined) {
    if (!Array.isArray(object.measurements) || object.measurements.length === 0) throw badSetting('source.measurements', 'must be a non-empty array of names (leave it out for every measurement)');
    const names = object.measurements.map((name, index) => nameOf(name, `source.measurements[${String(index)}]`));
    checked.measurements = [...new Set(names)];
  }
  if (object.measurement_prefix !== undefined) {
    if (typeof object.measurement_prefix !== 'string') throw badSetting('source.measurement_prefix', 'must be a string');
    checked.measurement_prefix = object.measurement_prefix;
  }
  return checked;
}

/** The part of a job source both versions read, as checkInfluxJobSource normalised it (a 1.x driver reads its retention policy itself). */
export function influxJobSourceOf(source: Readonly<Record<string, unknown>>): InfluxJobSource {
  const checked = checkInfluxJobSource(source, 1);
  return {
    measurements: (checked.measurements as string[] | undefined) ?? null,
    measurementPrefix: (checked.measurement_prefix as string | undefined) ?? '',
  };
}
