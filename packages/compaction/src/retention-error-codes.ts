/** Stable codes of retention (clients and tests depend on the strings). */
export const RetentionErrorCode = Object.freeze({
  /** A policy's field is missing, of the wrong type or out of range (400, the field named). */
  badPolicy: 'ARC_RETENTION_BAD_POLICY',
  /** Another policy has the name (409). */
  nameTaken: 'ARC_RETENTION_NAME_TAKEN',
  /** No policy has the id (404). */
  notFound: 'ARC_RETENTION_NOT_FOUND',
  /** Too many policies (RETENTION_POLICIES_MAX): a new one is refused (409). */
  tooMany: 'ARC_RETENTION_TOO_MANY',
  /** A policy id in a path that is not a positive integer (400). */
  badId: 'ARC_RETENTION_BAD_ID',
  /** retention.db was written by a newer Arc (its schema version is unknown here): start refused. */
  storeVersion: 'ARC_RETENTION_STORE_VERSION',
} as const);
export type RetentionErrorCode = (typeof RetentionErrorCode)[keyof typeof RetentionErrorCode];
