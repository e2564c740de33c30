import { validateMeasurementName } from '@arc/columnar';
import { ArcError, ErrorKind } from '@arc/errors';
import { ImporterErrorCode } from './error-codes.js';
import { compileJsonPath, type JsonPath } from './json-path.js';
import { HTTP_JSON_TIMEOUT_MS_DEFAULT, HTTP_JSON_TIMEOUT_MS_MAX } from './limits.js';

/**
 * An HTTP JSON connection's settings and a job's source, checked and compiled once (paths
 * compiled, defaults filled). Every refusal is a 400 naming the field (`field` in its details).
 *
 * Connection settings: `{url, headers?, method?: GET|POST, body?, timeout_ms?, auth_header?, pagination?}`.
 * Job source: `{path?, query?, mapping, pagination?, time_param?}` (its pagination wins over the connection's).
 */

export const TIME_FORMATS = ['epoch_s', 'epoch_ms', 'epoch_us', 'epoch_ns', 'rfc3339'] as const;
export type TimeFormat = (typeof TIME_FORMATS)[number];

export const FIELD_TYPES = ['float', 'integer', 'string', 'boolean'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

export type Pagination =
  | { readonly type: 'none' }
  | { readonly type: 'page'; readonly param: string; readonly start: number; readonly sizeParam: string | null; readonly size: number | null }
  | { readonly type: 'offset'; readonly param: string; readonly limitParam: string; readonly limit: number }
  | { readonly type: 'cursor'; readonly next: JsonPath; readonly param: string }
  | { readonly type: 'link'; readonly next: JsonPath };

export interface HttpJsonSettings {
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly method: 'GET' | 'POST';
  /** The JSON body of a POST (text), or null. */
  readonly body: string | null;
  readonly timeoutMs: number;
  /** The header the secret goes in as it is; null: `Authorization: Bearer <secret>`. */
  readonly authHeader: string | null;
  readonly pagination: Pagination | null;
}

export interface FieldMapping {
  readonly name: string;
  readonly path: JsonPath;
  /** null: as JSON typed it (number -> float, string, boolean). */
  readonly type: FieldType | null;
}

export interface HttpJsonMapping {
  readonly records: JsonPath;
  readonly time: JsonPath;
  /** null: detected per value (a number by its magnitude, a string as RFC 3339 or a number in text). */
  readonly timeFormat: TimeFormat | null;
  readonly measurement: { readonly name: string } | { readonly path: JsonPath };
  readonly tags: readonly (readonly [string, JsonPath])[];
  readonly fields: readonly FieldMapping[];
}

export interface TimeParameters {
  readonly start: string | null;
  readonly end: string | null;
  readonly format: TimeFormat;
}

export interface HttpJsonSource {
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly mapping: HttpJsonMapping;
  readonly pagination: Pagination | null;
  readonly timeParameters: TimeParameters | null;
}

/** A 400 naming `field`. Thrown: settings are checked where a driver method is called, and the callers turn it into the answer. */
export function badField(field: string, message: string): ArcError {
  return new ArcError(ErrorKind.badRequest, ImporterErrorCode.badSettings, `${field}: ${message}`, { field });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function objectAt(value: unknown, field: string): Record<string, unknown> {
  if (!isObject(value)) throw badField(field, 'must be a JSON object');
  return value;
}

function refuseUnknown(value: Record<string, unknown>, known: readonly string[], field: string): void {
  const unknown = Object.keys(value).find((key) => !known.includes(key));
  if (unknown !== undefined) throw badField(`${field}.${unknown}`, `unknown field (known: ${known.join(', ')})`);
}

function stringAt(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') throw badField(field, 'must be a non-empty string');
  return value;
}

function optionalString(value: unknown, field: string): string | null {
  return value === undefined || value === null ? null : stringAt(value, field);
}

function integerAt(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) throw badField(field, `must be a whole number from ${min} to ${max}`);
  return value;
}

function pathAt(value: unknown, field: string): JsonPath {
  const path = compileJsonPath(stringAt(value, field), field);
  if (path instanceof ArcError) throw path;
  return path;
}

function singularPathAt(value: unknown, field: string): JsonPath {
  const path = pathAt(value, field);
  if (!path.singular) throw badField(field, `'${path.text}' must select one value per record: names and indexes only (no '*', no '..')`);
  return path;
}

function stringMap(value: unknown, field: string): Record<string, string> {
  if (value === undefined) return {};
  const map = objectAt(value, field);
  const out: Record<string, string> = {};
  for (const [key, item] of Object.entries(map)) {
    if (typeof item === 'number' || typeof item === 'boolean') out[key] = String(item);
    else if (typeof item === 'string') out[key] = item;
    else throw badField(`${field}.${key}`, 'must be a string, number or boolean');
  }
  return out;
}

function parseUrl(value: unknown, field: string): URL {
  const text = stringAt(value, field);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw badField(field, `'${text}' is not an absolute URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw badField(field, `must be an http:// or https:// URL, got '${url.protocol}'`);
  if (url.username !== '' || url.password !== '') throw badField(field, 'must not carry credentials: give the token as the secret');
  return url;
}

export function parsePagination(value: unknown, field: string): Pagination | null {
  if (value === undefined || value === null) return null;
  const raw = objectAt(value, field);
  switch (raw.type) {
    case 'none':
      refuseUnknown(raw, ['type'], field);
      return { type: 'none' };
    case 'page': {
      refuseUnknown(raw, ['type', 'param', 'start', 'size_param', 'size'], field);
      const sizeParam = optionalString(raw.size_param, `${field}.size_param`);
      const size = raw.size === undefined ? null : integerAt(raw.size, `${field}.size`, 1, 1_000_000);
      if (sizeParam !== null && size === null) throw badField(`${field}.size`, 'is required with size_param');
      return { type: 'page', param: stringAt(raw.param, `${field}.param`), start: raw.start === undefined ? 1 : integerAt(raw.start, `${field}.start`, 0, 1_000_000_000), sizeParam, size };
    }
    case 'offset':
      refuseUnknown(raw, ['type', 'param', 'limit_param', 'limit'], field);
      return { type: 'offset', param: stringAt(raw.param, `${field}.param`), limitParam: stringAt(raw.limit_param, `${field}.limit_param`), limit: integerAt(raw.limit, `${field}.limit`, 1, 1_000_000) };
    case 'cursor':
      refuseUnknown(raw, ['type', 'next', 'param'], field);
      return { type: 'cursor', next: singularPathAt(raw.next, `${field}.next`), param: stringAt(raw.param, `${field}.param`) };
    case 'link':
      refuseUnknown(raw, ['type', 'next'], field);
      return { type: 'link', next: singularPathAt(raw.next, `${field}.next`) };
    default:
      throw badField(`${field}.type`, "must be 'page', 'offset', 'cursor', 'link' or 'none'");
  }
}

/** The settings' JSON as stored (checked, unknown fields refused) and compiled. */
export function parseSettings(value: unknown): HttpJsonSettings {
  const raw = objectAt(value, 'settings');
  refuseUnknown(raw, ['url', 'headers', 'method', 'body', 'timeout_ms', 'auth_header', 'pagination'], 'settings');
  const method = raw.method === undefined ? 'GET' : raw.method;
  if (method !== 'GET' && method !== 'POST') throw badField('settings.method', "must be 'GET' or 'POST'");
  if (raw.body !== undefined && method !== 'POST') throw badField('settings.body', "is sent with method 'POST' only");
  return {
    url: parseUrl(raw.url, 'settings.url'),
    headers: stringMap(raw.headers, 'settings.headers'),
    method,
    body: raw.body === undefined ? null : JSON.stringify(raw.body),
    timeoutMs: raw.timeout_ms === undefined ? HTTP_JSON_TIMEOUT_MS_DEFAULT : integerAt(raw.timeout_ms, 'settings.timeout_ms', 1, HTTP_JSON_TIMEOUT_MS_MAX),
    authHeader: optionalString(raw.auth_header, 'settings.auth_header'),
    pagination: parsePagination(raw.pagination, 'settings.pagination'),
  };
}

function timeFormatAt(value: unknown, field: string): TimeFormat {
  if (!(TIME_FORMATS as readonly unknown[]).includes(value)) throw badField(field, `must be one of ${TIME_FORMATS.join(', ')}`);
  return value as TimeFormat;
}

function fieldMappings(value: unknown): FieldMapping[] {
  const raw = objectAt(value, 'mapping.fields');
  const fields = Object.entries(raw).map(([name, item]): FieldMapping => {
    const field = `mapping.fields.${name}`;
    if (name === '' || name.includes('\n')) throw badField(field, 'a field needs a name without line breaks');
    if (typeof item === 'string') return { name, path: singularPathAt(item, field), type: null };
    const spec = objectAt(item, field);
    refuseUnknown(spec, ['path', 'type'], field);
    if (spec.type !== undefined && !(FIELD_TYPES as readonly unknown[]).includes(spec.type)) throw badField(`${field}.type`, `must be one of ${FIELD_TYPES.join(', ')}`);
    return { name, path: singularPathAt(spec.path, `${field}.path`), type: (spec.type as FieldType | undefined) ?? null };
  });
  if (fields.length === 0) throw badField('mapping.fields', 'needs at least one field (a row without a field stores nothing)');
  return fields;
}

function measurementAt(value: unknown): HttpJsonMapping['measurement'] {
  if (typeof value === 'string') {
    const invalid = validateMeasurementName(value);
    if (invalid !== null) throw badField('mapping.measurement', invalid.message);
    return { name: value };
  }
  const raw = objectAt(value, 'mapping.measurement');
  refuseUnknown(raw, ['path'], 'mapping.measurement');
  return { path: singularPathAt(raw.path, 'mapping.measurement.path') };
}

export function parseMapping(value: unknown): HttpJsonMapping {
  const raw = objectAt(value, 'mapping');
  refuseUnknown(raw, ['records', 'time', 'time_format', 'measurement', 'tags', 'fields'], 'mapping');
  const tags = Object.entries(raw.tags === undefined ? {} : objectAt(raw.tags, 'mapping.tags')).map(([name, path]) => {
    if (name === '' || name.includes('\n')) throw badField(`mapping.tags.${name}`, 'a tag needs a name without line breaks');
    return [name, singularPathAt(path, `mapping.tags.${name}`)] as const;
  });
  const fields = fieldMappings(raw.fields);
  const clash = fields.find((field) => tags.some(([tag]) => tag === field.name));
  if (clash !== undefined) throw badField(`mapping.fields.${clash.name}`, 'is also a tag: a column is a tag or a field');
  return {
    records: pathAt(raw.records, 'mapping.records'),
    time: singularPathAt(raw.time, 'mapping.time'),
    timeFormat: raw.time_format === undefined ? null : timeFormatAt(raw.time_format, 'mapping.time_format'),
    measurement: measurementAt(raw.measurement),
    tags,
    fields,
  };
}

function timeParametersAt(value: unknown): TimeParameters | null {
  if (value === undefined || value === null) return null;
  const raw = objectAt(value, 'time_param');
  refuseUnknown(raw, ['start', 'end', 'format'], 'time_param');
  const start = optionalString(raw.start, 'time_param.start');
  const end = optionalString(raw.end, 'time_param.end');
  if (start === null && end === null) throw badField('time_param', 'names the start or end query parameter (or both)');
  return { start, end, format: raw.format === undefined ? 'rfc3339' : timeFormatAt(raw.format, 'time_param.format') };
}

export function parseSource(value: unknown): HttpJsonSource {
  const raw = objectAt(value, 'source');
  refuseUnknown(raw, ['path', 'query', 'mapping', 'pagination', 'time_param'], 'source');
  return {
    path: raw.path === undefined ? '' : stringAt(raw.path, 'source.path'),
    query: stringMap(raw.query, 'source.query'),
    mapping: parseMapping(raw.mapping),
    pagination: parsePagination(raw.pagination, 'source.pagination'),
    timeParameters: timeParametersAt(raw.time_param),
  };
}
