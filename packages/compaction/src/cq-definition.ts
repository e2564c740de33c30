import assert from 'node:assert/strict';
import { validateDatabaseName, validateMeasurementName } from '@arc/columnar';
import { badRequest, type ArcError } from '@arc/errors';
import { CqErrorCode } from './cq-error-codes.js';
import { CQ_DAYS_MAX, CQ_DESCRIPTION_CHARS_MAX, CQ_INTERVAL_MS_MAX, CQ_INTERVAL_MS_MIN, CQ_NAME_PATTERN, CQ_QUERY_BYTES_MAX } from './limits.js';

/**
 * What a continuous query says (issue fields, API spelling in the comments): every `interval`,
 * the SQL `query` is run over the rows of `sourceMeasurement` of one window [start, end) (its
 * `{start_time}` and `{end_time}` placeholders become the window's bounds) and its rows replace
 * the rows of `destinationMeasurement` in that window.
 */
export interface ContinuousQuerySpec {
  readonly name: string;
  readonly description: string | null;
  readonly database: string;
  /** source_measurement */
  readonly sourceMeasurement: string;
  /** destination_measurement */
  readonly destinationMeasurement: string;
  readonly query: string;
  /** interval, as given (`5m`, `1h30m`). */
  readonly interval: string;
  /** retention_days: kept with the definition (a retention policy of the destination applies it). */
  readonly retentionDays: number | null;
  /** delete_source_after_days: kept with the definition. */
  readonly deleteSourceAfterDays: number | null;
  /** is_active: an inactive query is kept but never run by the scheduler. */
  readonly isActive: boolean;
}

export interface ContinuousQuery extends ContinuousQuerySpec {
  readonly id: number;
  /** The interval in milliseconds (parseInterval of `interval`). */
  readonly intervalMs: number;
  /** End (ISO 8601) of the last window run in order by the scheduler (catch-up resumes there); null before the first. */
  readonly lastProcessedTime: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

const DURATION_UNITS_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const DURATION_PATTERN = /^(?:\d{1,9}(?:ms|s|m|h|d|w))+$/;
const DURATION_PART = /(\d{1,9})(ms|s|m|h|d|w)/g;

/** Milliseconds of a duration such as `90s`, `1h30m`, `1d`; null when the text is not one. */
export function parseDurationMs(text: string): number | null {
  if (!DURATION_PATTERN.test(text)) return null;
  let total = 0;
  for (const [, count, unit] of text.matchAll(DURATION_PART)) total += Number(count) * (DURATION_UNITS_MS[unit as string] ?? 0);
  return total;
}

function badField(field: string, message: string): ArcError {
  return badRequest(CqErrorCode.badDefinition, `Continuous query field '${field}': ${message}`, { field });
}

/** The interval in ms, or 400 naming what is wrong with it. */
export function parseInterval(interval: string, field = 'interval'): number | ArcError {
  const ms = parseDurationMs(interval);
  if (ms === null) return badField(field, `'${interval}' is not a duration (a number and a unit: ms, s, m, h, d, w, as in 5m or 1h30m)`);
  if (ms < CQ_INTERVAL_MS_MIN || ms > CQ_INTERVAL_MS_MAX) return badField(field, `must be ${String(CQ_INTERVAL_MS_MIN / 1000)} s..${String(CQ_INTERVAL_MS_MAX / 86_400_000)} days, got '${interval}'`);
  if (ms % 1000 !== 0) return badField(field, `must be whole seconds, got '${interval}'`);
  return ms;
}

/** The fields of a request body as the HTTP layer checked their types (API spelling). */
export interface ContinuousQueryFields {
  readonly name: string;
  readonly description?: string | null | undefined;
  readonly database: string;
  readonly source_measurement: string;
  readonly destination_measurement: string;
  readonly query: string;
  readonly interval: string;
  readonly retention_days?: number | null | undefined;
  readonly delete_source_after_days?: number | null | undefined;
  readonly is_active?: boolean | undefined;
  /** Database the rows go to; the query's `database` when absent (InfluxQL `INTO otherdb..m`). */
  readonly destination_database?: string | null | undefined;
  /** Shift of the windows from the epoch, a duration below `interval` (InfluxQL `GROUP BY time(i, offset)`). */
  readonly window_offset?: string | null | undefined;
  /** How often the query runs; `interval` when absent (InfluxQL `RESAMPLE EVERY`). */
  readonly resample_every?: string | null | undefined;
  /** The span each run recomputes, windows ending at the run; `interval` when absent (InfluxQL `RESAMPLE FOR`). */
  readonly resample_for?: string | null | undefined;
}

function daysOf(value: number | null | undefined, field: string): number | null | ArcError {
  if (value === undefined || value === null) return null;
  if (!Number.isSafeInteger(value) || value < 1 || value > CQ_DAYS_MAX) return badField(field, `must be a whole number of days 1..${String(CQ_DAYS_MAX)}, got ${String(value)}`);
  return value;
}

function namesError(fields: ContinuousQueryFields): ArcError | null {
  if (!CQ_NAME_PATTERN.test(fields.name)) return badField('name', `must match ${CQ_NAME_PATTERN.source}`);
  const badDatabase = validateDatabaseName(fields.database);
  if (badDatabase !== null) return badField('database', badDatabase.message);
  for (const field of ['source_measurement', 'destination_measurement'] as const) {
    const bad = validateMeasurementName(fields[field]);
    if (bad !== null) return badField(field, bad.message);
  }
  if (fields.source_measurement === fields.destination_measurement) return badField('destination_measurement', 'must differ from source_measurement (a window would replace the rows it reads)');
  return null;
}

function queryTextError(query: string): ArcError | null {
  if (Buffer.byteLength(query) > CQ_QUERY_BYTES_MAX) return badField('query', `is longer than ${String(CQ_QUERY_BYTES_MAX)} bytes`);
  if (!query.includes('{start_time}') || !query.includes('{end_time}')) return badRequest(CqErrorCode.badQuery, 'Continuous query field \'query\': must contain the {start_time} and {end_time} placeholders (the window\'s bounds)', { field: 'query' });
  return null;
}

/**
 * A continuous query's spec from the checked fields of a request, or 400 naming the first bad
 * field. The query's SQL is checked by DuckDB's parser separately (cq-query-check.ts), as that
 * needs a DuckDB instance.
 */
export function continuousQuerySpec(fields: ContinuousQueryFields): ContinuousQuerySpec | ArcError {
  const names = namesError(fields);
  if (names !== null) return names;
  if (fields.description != null && fields.description.length > CQ_DESCRIPTION_CHARS_MAX) return badField('description', `is longer than ${String(CQ_DESCRIPTION_CHARS_MAX)} characters`);
  const interval = parseInterval(fields.interval);
  if (typeof interval !== 'number') return interval;
  const queryError = queryTextError(fields.query);
  if (queryError !== null) return queryError;
  const retentionDays = daysOf(fields.retention_days, 'retention_days');
  if (retentionDays !== null && typeof retentionDays !== 'number') return retentionDays;
  const deleteSourceAfterDays = daysOf(fields.delete_source_after_days, 'delete_source_after_days');
  if (deleteSourceAfterDays !== null && typeof deleteSourceAfterDays !== 'number') return deleteSourceAfterDays;
  return {
    name: fields.name,
    description: fields.description ?? null,
    database: fields.database,
    sourceMeasurement: fields.source_measurement,
    destinationMeasurement: fields.destination_measurement,
    query: fields.query,
    interval: fields.interval,
    retentionDays,
    deleteSourceAfterDays,
    isActive: fields.is_active ?? true,
  };
}

/** `'2026-01-01T00:00:00Z'`: a placeholder's value, a quoted RFC 3339 instant (second precision, as Arc's Go server writes it). */
export function placeholderValue(timeMs: number): string {
  assert.ok(timeMs % 1000 === 0, 'window bounds are whole seconds');
  return `'${new Date(timeMs).toISOString().replace('.000Z', 'Z')}'`;
}

/** The query of one window: its placeholders replaced by the window's bounds. */
export function windowQuery(query: string, startMs: number, endMs: number): string {
  assert.ok(startMs < endMs, 'a window is not empty');
  return query.replaceAll('{start_time}', placeholderValue(startMs)).replaceAll('{end_time}', placeholderValue(endMs));
}

/** A window [startMs, endMs) of a query: its interval's multiples since the Unix epoch (UTC), as InfluxDB's GROUP BY time(). */
export interface CqWindow {
  readonly startMs: number;
  readonly endMs: number;
}

/** The window holding `timeMs`. */
export function windowAt(intervalMs: number, timeMs: number): CqWindow {
  const startMs = Math.floor(timeMs / intervalMs) * intervalMs;
  return { startMs, endMs: startMs + intervalMs };
}

/** The windows that cover [fromMs, toMs): from the window holding fromMs to the one holding toMs - 1, in order. */
export function windowsCovering(intervalMs: number, fromMs: number, toMs: number): CqWindow[] {
  const windows: CqWindow[] = [];
  if (fromMs >= toMs) return windows;
  for (let startMs = windowAt(intervalMs, fromMs).startMs; startMs < toMs; startMs += intervalMs) windows.push({ startMs, endMs: startMs + intervalMs });
  return windows;
}

/** Every window that ended at `nowMs` or before, after the one ending at `afterEndMs`, in order. */
export function closedWindowsAfter(intervalMs: number, afterEndMs: number, nowMs: number): CqWindow[] {
  assert.ok(afterEndMs % intervalMs === 0, 'a processed end is a window boundary');
  return windowsCovering(intervalMs, afterEndMs, windowAt(intervalMs, nowMs).startMs);
}
