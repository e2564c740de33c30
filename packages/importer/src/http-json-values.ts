import type { FieldValue } from './line-protocol.js';
import type { FieldType, TimeFormat } from './http-json-settings.js';

/**
 * JSON values of a record as Arc stores them: the time in ns, tag values as text, field values by
 * type. JSON has one number type, so a number is a float unless the mapping says `type: integer`
 * (JSON.parse reads numbers as doubles: integers beyond 2^53 lose digits unless the API sends them
 * as text, which `integer` takes). Each function returns the value or a string saying why not.
 */

const NANOS: Readonly<Record<Exclude<TimeFormat, 'rfc3339'>, bigint>> = { epoch_s: 1_000_000_000n, epoch_ms: 1_000_000n, epoch_us: 1_000n, epoch_ns: 1n };

/** The unit of an epoch number by its magnitude, the rule of Arc's CSV import (import-sql.ts epochNanosSql). */
function unitByMagnitude(magnitude: number): Exclude<TimeFormat, 'rfc3339'> {
  if (magnitude < 1e10) return 'epoch_s';
  if (magnitude < 1e13) return 'epoch_ms';
  if (magnitude < 1e16) return 'epoch_us';
  return 'epoch_ns';
}

const INTEGER_TEXT = /^-?\d{1,30}$/;
const NUMBER_TEXT = /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const RFC3339 = /^(\d{4}-\d{2}-\d{2})(?:[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2}))?$/;

function epochNs(value: number, format: Exclude<TimeFormat, 'rfc3339'> | null): bigint | string {
  if (!Number.isFinite(value)) return `'${String(value)}' is not a time`;
  const unit = format ?? unitByMagnitude(Math.abs(value));
  const nanos = NANOS[unit];
  return Number.isSafeInteger(value) ? BigInt(value) * nanos : BigInt(Math.round(value * Number(nanos)));
}

/** Whether `yyyy-mm-dd` names a day of the calendar (Date.parse takes 2024-02-30 as March 1st). */
function isCalendarDate(date: string): boolean {
  const [year, month, day] = date.split('-').map(Number);
  if (year === undefined || month === undefined || day === undefined) return false;
  const parsed = new Date(Date.UTC(year, month - 1, day));
  return parsed.getUTCMonth() === month - 1 && parsed.getUTCDate() === day;
}

/** RFC 3339 (or a bare date, midnight UTC) to ns, keeping all nine fraction digits. */
export function rfc3339Ns(text: string): bigint | null {
  const match = RFC3339.exec(text);
  if (match === null) return null;
  const [, date, time, fraction, zone] = match;
  if (!isCalendarDate(date ?? '') || (time !== undefined && Number(time.slice(0, 2)) > 23)) return null;
  const ms = Date.parse(time === undefined ? `${date ?? ''}T00:00:00Z` : `${date ?? ''}T${time}${zone === 'z' ? 'Z' : (zone ?? '')}`);
  if (Number.isNaN(ms)) return null;
  return BigInt(ms) * 1_000_000n + BigInt((fraction ?? '').padEnd(9, '0'));
}

/** A record's time value in ns since the epoch, or why it is none. */
export function timeNsOf(value: unknown, format: TimeFormat | null): bigint | string {
  if (typeof value === 'number') {
    if (format === 'rfc3339') return `${String(value)} is a number, not an RFC 3339 text`;
    return epochNs(value, format);
  }
  if (typeof value !== 'string') return value === undefined ? 'is missing' : `${JSON.stringify(value)} is not a time`;
  const text = value.trim();
  if (format !== 'rfc3339' && INTEGER_TEXT.test(text)) {
    const integer = BigInt(text);
    const unit = format ?? unitByMagnitude(Math.abs(Number(integer)));
    return integer * NANOS[unit];
  }
  if (format !== 'rfc3339' && NUMBER_TEXT.test(text)) return epochNs(Number(text), format);
  if (format !== null && format !== 'rfc3339') return `'${text}' is not a number of ${format.slice('epoch_'.length)}`;
  return rfc3339Ns(text) ?? `'${text}' is not an RFC 3339 time`;
}

/** A formatted bound for an API's time query parameter. */
export function timeText(ns: bigint, format: TimeFormat): string {
  if (format !== 'rfc3339') return (ns / NANOS[format]).toString();
  const ms = ns / 1_000_000n;
  const fraction = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return `${new Date(Number(ms)).toISOString().slice(0, 19)}.${fraction}Z`;
}

/** A tag value as text; null leaves the tag out (JSON null, absent). */
export function tagTextOf(value: unknown): string | null | { readonly error: string } {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return { error: `is a JSON ${Array.isArray(value) ? 'array' : 'object'}, not a value: map a path to one of its members` };
}

/** A field value by the mapping's type (or JSON's); null leaves the field out (JSON null, absent). */
export function fieldValueOf(value: unknown, type: FieldType | null): FieldValue | null | { readonly error: string } {
  if (value === undefined || value === null) return null;
  if (typeof value === 'object') return { error: `is a JSON ${Array.isArray(value) ? 'array' : 'object'}, not a value: map a path to one of its members` };
  const wrong = { error: `${JSON.stringify(value)} is not ${type === 'integer' ? 'an integer' : `a ${type ?? 'value'}`}` };
  switch (type) {
    case null:
      if (typeof value === 'number') return { kind: 'float', value };
      if (typeof value === 'string') return { kind: 'string', value };
      if (typeof value === 'boolean') return { kind: 'boolean', value };
      return wrong;
    case 'float':
      if (typeof value === 'number') return { kind: 'float', value };
      return typeof value === 'string' && NUMBER_TEXT.test(value.trim()) ? { kind: 'float', value: Number(value) } : wrong;
    case 'integer':
      if (typeof value === 'number') return Number.isSafeInteger(value) ? { kind: 'integer', value } : wrong;
      return typeof value === 'string' && INTEGER_TEXT.test(value.trim()) ? { kind: 'integer', value: BigInt(value.trim()) } : wrong;
    case 'string':
      return { kind: 'string', value: typeof value === 'string' ? value : JSON.stringify(value) };
    case 'boolean':
      if (typeof value === 'boolean') return { kind: 'boolean', value };
      return value === 'true' || value === 'false' ? { kind: 'boolean', value: value === 'true' } : wrong;
  }
}
