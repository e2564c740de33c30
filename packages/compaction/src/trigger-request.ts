import { validateDatabaseName, validateMeasurementName } from '@arc/columnar';
import type { ArcError } from '@arc/errors';
import { badTierError } from './compaction-errors.js';
import { isCompactionTier } from './types.js';
import type { TriggerRequest } from './types.js';

/** A scope as it arrives (query string, JSON body, command line): every part optional, unchecked. */
export interface ScopeInput {
  readonly database?: string | undefined;
  readonly measurement?: string | undefined;
  readonly tier?: string | undefined;
}

/**
 * The scope of a trigger or a candidates listing, once its names are valid database and
 * measurement names (the same rules as writes) and its tier exists; else the 400 naming the bad part.
 */
export function parseTriggerRequest(input: ScopeInput): TriggerRequest | ArcError {
  const { database, measurement, tier } = input;
  const nameError = (database === undefined ? null : validateDatabaseName(database)) ?? (measurement === undefined ? null : validateMeasurementName(measurement));
  if (nameError !== null) return nameError;
  if (tier !== undefined && !isCompactionTier(tier)) return badTierError(tier);
  return {
    ...(database === undefined ? {} : { database }),
    ...(measurement === undefined ? {} : { measurement }),
    ...(tier === undefined ? {} : { tier }),
  };
}
