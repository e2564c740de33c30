import { ArcError, ErrorKind } from '@arc/errors';
import { StorageErrorCode } from './error-codes.js';

/**
 * The naming rule, decided here once (docs/architecture.md, Storage): database and measurement
 * names are case-sensitive, as in InfluxDB, and stored as written. DuckDB, which answers SQL,
 * folds identifiers to one case, so two names that differ only by case could not both be
 * queried. Arc therefore refuses to create a name that equals an existing one but for case
 * (409 naming the existing one); every reader (SQL, InfluxQL, the catalog) matches names exactly.
 * Files already on disk under two such names (written before this rule) stay listed; SQL answers
 * the first in sort order, as it always did.
 */

export const NAME_CASE_CONFLICT_CODE = StorageErrorCode.nameCaseConflict;

/** The key names are compared by when looking for a case clash. */
export function foldName(name: string): string {
  return name.toLowerCase();
}

/** The existing name that equals `name` but for case (never `name` itself), or null. */
export function caseVariantOf(existing: Iterable<string>, name: string): string | null {
  const folded = foldName(name);
  for (const candidate of existing) if (candidate !== name && foldName(candidate) === folded) return candidate;
  return null;
}

/** 409: `name` clashes with `existing` (see the rule above). */
export function caseConflictError(kind: 'database' | 'measurement', name: string, existing: string): ArcError {
  const label = kind === 'database' ? 'Database' : 'Measurement';
  return new ArcError(
    ErrorKind.conflict,
    NAME_CASE_CONFLICT_CODE,
    `${label} '${name}' differs from the existing ${kind} '${existing}' only by case; names are case-sensitive but SQL cannot tell them apart: use '${existing}'`,
    { [kind]: name, existing },
  );
}

/**
 * Of names equal but for case, the first in sort order: the one SQL sees (sorted input kept in order).
 */
export function queryableNames(sortedNames: readonly string[]): string[] {
  const seen = new Set<string>();
  const kept: string[] = [];
  for (const name of sortedNames) {
    const folded = foldName(name);
    if (seen.has(folded)) continue;
    seen.add(folded);
    kept.push(name);
  }
  return kept;
}
