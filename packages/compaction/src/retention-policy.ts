import { badRequest, type ArcError } from '@arc/errors';
import { validateDatabaseName, validateMeasurementName } from '@arc/columnar';
import { RetentionErrorCode } from './retention-error-codes.js';
import { RETENTION_BUFFER_DAYS_DEFAULT, RETENTION_BUFFER_DAYS_MAX, RETENTION_DAYS_MAX, RETENTION_POLICY_NAME_PATTERN } from './limits.js';


/**
 * What a policy says (issue fields, API spelling in the comments): rows of `database` (of one
 * `measurement`, or of every measurement when null) whose time is older than `retentionDays` +
 * `bufferDays` days before a run are removed by that run.
 */
export interface RetentionPolicySpec {
  readonly name: string;
  readonly database: string;
  /** Null: every measurement of the database. */
  readonly measurement: string | null;
  /** retention_days, 1..RETENTION_DAYS_MAX. */
  readonly retentionDays: number;
  /** buffer_days, 0..RETENTION_BUFFER_DAYS_MAX (default RETENTION_BUFFER_DAYS_DEFAULT). */
  readonly bufferDays: number;
  /** is_active: an inactive policy is kept but never run by the schedule. */
  readonly isActive: boolean;
}

export interface RetentionPolicy extends RetentionPolicySpec {
  readonly id: number;
  /** ISO 8601 UTC. */
  readonly createdAt: string;
  readonly updatedAt: string;
}

function badField(field: string, message: string): ArcError {
  return badRequest(RetentionErrorCode.badPolicy, `Retention policy field '${field}': ${message}`, { field });
}

function integerIn(body: Record<string, unknown>, field: string, min: number, max: number, fallback?: number): number {
  const value = body[field] ?? fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw badField(field, `must be a whole number of days, got ${value === undefined ? 'nothing' : JSON.stringify(value)}`);
  if (value < min || value > max) throw badField(field, `must be ${String(min)}..${String(max)}, got ${String(value)}`);
  return value;
}

function nameOf(body: Record<string, unknown>): string {
  const name = body['name'];
  if (typeof name !== 'string' || !RETENTION_POLICY_NAME_PATTERN.test(name)) throw badField('name', `must match ${RETENTION_POLICY_NAME_PATTERN.source}`);
  return name;
}

function scopeOf(body: Record<string, unknown>): { database: string; measurement: string | null } {
  const database = body['database'];
  if (typeof database !== 'string') throw badField('database', 'must be a database name');
  const badDatabase = validateDatabaseName(database);
  if (badDatabase !== null) throw badField('database', badDatabase.message);
  const measurement = body['measurement'] ?? null;
  if (measurement === null) return { database, measurement: null };
  if (typeof measurement !== 'string') throw badField('measurement', 'must be a measurement name or null (every measurement)');
  const badMeasurement = validateMeasurementName(measurement);
  if (badMeasurement !== null) throw badField('measurement', badMeasurement.message);
  return { database, measurement };
}

/**
 * A policy from a request body (`{name, database, measurement?, retention_days, buffer_days?,
 * is_active?}`), or 400 ARC_RETENTION_BAD_POLICY naming the first bad field. Unknown fields are
 * refused too: a misspelt `retention_day` must not leave the default in place silently.
 */
export function parseRetentionPolicy(body: unknown): RetentionPolicySpec {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest(RetentionErrorCode.badPolicy, 'A retention policy is a JSON object');
  const fields = body as Record<string, unknown>;
  const known = new Set(['name', 'database', 'measurement', 'retention_days', 'buffer_days', 'is_active']);
  const unknown = Object.keys(fields).find((field) => !known.has(field));
  if (unknown !== undefined) throw badField(unknown, `is not a field of a policy (${[...known].join(', ')})`);
  const isActive = fields['is_active'] ?? true;
  if (typeof isActive !== 'boolean') throw badField('is_active', 'must be true or false');
  return {
    name: nameOf(fields),
    ...scopeOf(fields),
    retentionDays: integerIn(fields, 'retention_days', 1, RETENTION_DAYS_MAX),
    bufferDays: integerIn(fields, 'buffer_days', 0, RETENTION_BUFFER_DAYS_MAX, RETENTION_BUFFER_DAYS_DEFAULT),
    isActive,
  };
}
