/** Stable codes of the write-ahead log; clients, dead-letter sidecars and tests match on these. */
export const WalErrorCode = Object.freeze({
  /** An append to the log failed: nothing of the request was accepted (503). */
  writeFailed: 'ARC_WAL_WRITE_FAILED',
  /** The WAL directory cannot be created or written at start. */
  dirUnwritable: 'ARC_WAL_DIR_UNWRITABLE',
  /** An entry with a valid checksum whose request cannot be read back (replay, dead letters). */
  entryUnreadable: 'ARC_WAL_ENTRY_UNREADABLE',
  /** A dead letter whose sidecar does not say why it was refused (missing or unreadable). */
  unknownReason: 'ARC_UNKNOWN',
} as const);
export type WalErrorCode = (typeof WalErrorCode)[keyof typeof WalErrorCode];
