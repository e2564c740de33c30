import assert from 'node:assert/strict';
import { validateDatabaseName, validateMeasurementName } from '@arc/columnar';
import { ArcError, badRequest } from '@arc/errors';
import { CqErrorCode } from './cq-error-codes.js';
import { CQ_DAYS_MAX, CQ_DESCRIPTION_CHARS_MAX, CQ_INTERVAL_MS_MAX, CQ_INTERVAL_MS_MIN, CQ_NAME_PATTERN, CQ_QUERY_BYTES_MAX, CQ_RESAMPLE_FOR_WINDOWS_MAX } from './limits.js';

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
  /** retention_days: the destination's rows older than that many days are removed (hourly, after the scheduled runs). */
  readonly retentionDays: number | null;
  /** delete_source_after_days: the source's rows older than that many days, in windows no later run computes, are removed (sourceCutoffMs). */
  readonly deleteSourceAfterDays: number | null;
  /** is_active: an inactive query is kept but never run by the scheduler. */
  readonly isActive: boolean;
  /** destination_database as given: null means `database`. */
  readonly destinationDatabase: string | null;
  /** window_offset as given (windows start at epoch + offset + k * interval); null means none. */
  readonly windowOffset: string | null;
  /** resample_every as given (how often the query runs); null means `interval`. */
  readonly resampleEvery: string | null;
  /** resample_for as given (the span each run recomputes); null means max(interval, resample_every). */
  readonly resampleFor: string | null;
}

export interface ContinuousQuery extends ContinuousQuerySpec {
  readonly id: number;
  /** The interval in milliseconds (parseInterval of `interval`). */
  readonly intervalMs: number;
  /** The windows and the runs, defaults applied (cqSchedule). */
  readonly schedule: CqSchedule;
  /** The database the rows go to (`destinationDatabase`, else `database`). */
  readonly destinationDatabaseName: string;
  /** The last run time (ISO 8601) the scheduler ran in order, its windows all run (catch-up resumes there); null before the first. */
  readonly lastProcessedTime: string | null;
  /**
   * The start (ISO 8601) of the one contiguous span the query has rolled up, which ends at its
   * catch-up point; delete_source_after_days removes source rows only inside it. Null before
   * the first window the scheduler ran (then no source row is removed).
   */
  readonly rolledUpFromTime: string | null;
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
  for (const field of ['database', 'destination_database'] as const) {
    const name = fields[field];
    const badDatabase = name == null ? null : validateDatabaseName(name);
    if (badDatabase !== null) return badField(field, badDatabase.message);
  }
  for (const field of ['source_measurement', 'destination_measurement'] as const) {
    const bad = validateMeasurementName(fields[field]);
    if (bad !== null) return badField(field, bad.message);
  }
  // Another database's measurement of the same name is another table: only the same one would replace the rows it reads.
  const sameDatabase = fields.destination_database == null || fields.destination_database === fields.database;
  if (sameDatabase && fields.source_measurement === fields.destination_measurement) return badField('destination_measurement', 'must differ from source_measurement (a window would replace the rows it reads)');
  return null;
}

/** A duration field in whole seconds (null when absent), or 400 naming it. */
function optionalDurationMs(text: string | null | undefined, field: string): number | null | ArcError {
  if (text == null) return null;
  const ms = parseDurationMs(text);
  if (ms === null) return badField(field, `'${text}' is not a duration (a number and a unit: ms, s, m, h, d, w, as in 5m or 1h30m)`);
  if (ms % 1000 !== 0) return badField(field, `must be whole seconds, got '${text}'`);
  return ms;
}

/**
 * The schedule's fields checked against the interval, as InfluxDB checks GROUP BY time(i, offset)
 * and RESAMPLE EVERY / FOR: 0 <= offset < interval; EVERY at least a second (it may exceed the
 * interval: the runs are then EVERY apart); max(interval, EVERY) <= FOR <= CQ_RESAMPLE_FOR_WINDOWS_MAX intervals.
 */
function scheduleError(fields: ContinuousQueryFields, intervalMs: number): ArcError | null {
  const offsetMs = optionalDurationMs(fields.window_offset, 'window_offset');
  if (offsetMs instanceof ArcError) return offsetMs;
  if (offsetMs !== null && offsetMs >= intervalMs) return badField('window_offset', `must be below the interval ${fields.interval}, got '${String(fields.window_offset)}'`);
  const everyMs = optionalDurationMs(fields.resample_every, 'resample_every');
  if (everyMs instanceof ArcError) return everyMs;
  if (everyMs !== null && (everyMs < CQ_INTERVAL_MS_MIN || everyMs > CQ_INTERVAL_MS_MAX)) return badField('resample_every', `must be ${String(CQ_INTERVAL_MS_MIN / 1000)} s..${String(CQ_INTERVAL_MS_MAX / 86_400_000)} days, got '${String(fields.resample_every)}'`);
  const forMs = optionalDurationMs(fields.resample_for, 'resample_for');
  if (forMs instanceof ArcError) return forMs;
  if (forMs !== null && forMs < intervalMs) return badField('resample_for', `must be at least the interval ${fields.interval}, got '${String(fields.resample_for)}'`);
  if (forMs !== null && everyMs !== null && forMs < everyMs) return badField('resample_for', `must be at least resample_every ${String(fields.resample_every)} (else windows between runs are never computed), got '${String(fields.resample_for)}'`);
  if (forMs !== null && forMs > intervalMs * CQ_RESAMPLE_FOR_WINDOWS_MAX) return badField('resample_for', `must be at most ${String(CQ_RESAMPLE_FOR_WINDOWS_MAX)} intervals, got '${String(fields.resample_for)}'`);
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
  const badSchedule = scheduleError(fields, interval);
  if (badSchedule !== null) return badSchedule;
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
    destinationDatabase: fields.destination_database ?? null,
    windowOffset: fields.window_offset ?? null,
    resampleEvery: fields.resample_every ?? null,
    resampleFor: fields.resample_for ?? null,
  };
}

/** A query's definition as a request spells it: what an update that changes one field sends of the others (the inverse of continuousQuerySpec). */
export function continuousQueryFieldsOf(spec: ContinuousQuerySpec): Required<ContinuousQueryFields> {
  return {
    name: spec.name,
    description: spec.description,
    database: spec.database,
    source_measurement: spec.sourceMeasurement,
    destination_measurement: spec.destinationMeasurement,
    query: spec.query,
    interval: spec.interval,
    retention_days: spec.retentionDays,
    delete_source_after_days: spec.deleteSourceAfterDays,
    is_active: spec.isActive,
    destination_database: spec.destinationDatabase,
    window_offset: spec.windowOffset,
    resample_every: spec.resampleEvery,
    resample_for: spec.resampleFor,
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

/** A window [startMs, endMs) of a query: `intervalMs` long, starting at epoch (UTC) + offset + k * interval, as InfluxDB's GROUP BY time(interval, offset). */
export interface CqWindow {
  readonly startMs: number;
  readonly endMs: number;
}

/**
 * When a query runs and what each run recomputes, defaults applied: runs at epoch + offset +
 * k * everyMs; a run at time r recomputes every window overlapping [r - forMs, r). With the
 * defaults (every = for = interval, no offset) a run computes the one window that just closed.
 */
export interface CqSchedule {
  readonly intervalMs: number;
  readonly offsetMs: number;
  readonly everyMs: number;
  readonly forMs: number;
}

function requiredMs(text: string | null): number | null {
  if (text === null) return null;
  const ms = parseDurationMs(text);
  assert.ok(ms !== null, 'a stored duration was checked');
  return ms;
}

/** The schedule of a spec (checked), defaults applied: EVERY = interval; FOR = max(interval, EVERY) as InfluxDB (a run covers at least the time since the last). */
export function cqSchedule(spec: Pick<ContinuousQuerySpec, 'interval' | 'windowOffset' | 'resampleEvery' | 'resampleFor'>): CqSchedule {
  const intervalMs = requiredMs(spec.interval);
  assert.ok(intervalMs !== null, 'a spec has an interval');
  const everyMs = requiredMs(spec.resampleEvery) ?? intervalMs;
  return { intervalMs, offsetMs: requiredMs(spec.windowOffset) ?? 0, everyMs, forMs: requiredMs(spec.resampleFor) ?? Math.max(intervalMs, everyMs) };
}

/** The largest `origin + k * step` at or before timeMs. */
function floorTo(stepMs: number, originMs: number, timeMs: number): number {
  return originMs + Math.floor((timeMs - originMs) / stepMs) * stepMs;
}

/** The window holding `timeMs`. */
export function windowAt(schedule: CqSchedule, timeMs: number): CqWindow {
  const startMs = floorTo(schedule.intervalMs, schedule.offsetMs, timeMs);
  return { startMs, endMs: startMs + schedule.intervalMs };
}

/** The windows that cover [fromMs, toMs): from the window holding fromMs to the one holding toMs - 1, in order. */
export function windowsCovering(schedule: CqSchedule, fromMs: number, toMs: number): CqWindow[] {
  const windows: CqWindow[] = [];
  if (fromMs >= toMs) return windows;
  for (let startMs = windowAt(schedule, fromMs).startMs; startMs < toMs; startMs += schedule.intervalMs) windows.push({ startMs, endMs: startMs + schedule.intervalMs });
  return windows;
}

/** The last run time at or before `timeMs`. */
export function runAt(schedule: CqSchedule, timeMs: number): number {
  return floorTo(schedule.everyMs, schedule.offsetMs, timeMs);
}

/** The runs due at `nowMs` after the run at `afterRunMs` (oldest first), at most `runsMax`. */
export function runsDue(schedule: CqSchedule, afterRunMs: number, nowMs: number, runsMax: number): number[] {
  const runs: number[] = [];
  const lastMs = runAt(schedule, nowMs);
  for (let runMs = runAt(schedule, afterRunMs) + schedule.everyMs; runMs <= lastMs && runs.length < runsMax; runMs += schedule.everyMs) runs.push(runMs);
  return runs;
}

/** The windows the runs `runTimesMs` (in order) recompute, each once, in order: those overlapping [run - for, run) of any run. */
export function windowsOfRuns(schedule: CqSchedule, runTimesMs: readonly number[]): CqWindow[] {
  const byStart = new Map<number, CqWindow>();
  for (const runMs of runTimesMs) for (const window of windowsCovering(schedule, runMs - schedule.forMs, runMs)) byStart.set(window.startMs, window);
  return [...byStart.values()].sort((a, b) => a.startMs - b.startMs);
}

const DAY_MS = 86_400_000;

/** The start of the first window the next run after `processedRunMs` computes (`next run - resample_for`, aligned down to a window). */
export function nextRunFromMs(schedule: CqSchedule, processedRunMs: number): number {
  const nextRunMs = runAt(schedule, processedRunMs) + schedule.everyMs;
  return windowAt(schedule, nextRunMs - schedule.forMs).startMs;
}

/**
 * The instant before which a query's source rows may go (delete_source_after_days): older than
 * that many days, and in no window a later run could compute again, which would replace its
 * rollup with what is left: windows of later runs (those overlapping [run - for, run) for runs
 * after `processedRunMs`), and windows that late rows re-run (ending within `latenessMs` of now).
 * With the default schedule that is the end of the last processed window.
 */
export function sourceCutoffMs(schedule: CqSchedule, processedRunMs: number, nowMs: number, deleteSourceAfterDays: number, latenessMs: number): number {
  const recomputedFromMs = nextRunFromMs(schedule, processedRunMs);
  const lateFromMs = windowAt(schedule, nowMs - latenessMs).startMs;
  return Math.min(nowMs - deleteSourceAfterDays * DAY_MS, recomputedFromMs, lateFromMs);
}
