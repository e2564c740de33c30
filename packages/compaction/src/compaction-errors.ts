import { ArcError, ErrorKind, badRequest } from '@arc/errors';
import { CompactionErrorCode } from './error-codes.js';
import { COMPACTION_TIERS } from './types.js';

/** 400 ARC_COMPACTION_BAD_TIER naming the value and the tiers that exist. */
export function badTierError(value: string): ArcError {
  return badRequest(CompactionErrorCode.badTier, `Unknown compaction tier '${value}': must be one of ${COMPACTION_TIERS.join(', ')}`, { tier: value });
}

/** 409 ARC_COMPACTION_DISABLED: what a trigger (or a read of a compactor that is not running) answers. */
export function compactionDisabledError(): ArcError {
  return new ArcError(ErrorKind.conflict, CompactionErrorCode.disabled, 'Compaction is off (compaction.enabled = false in arc.conf): nothing compacts, and a trigger is refused');
}
