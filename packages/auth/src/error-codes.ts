/**
 * Stable codes of authentication and token management. The token's database check
 * (ARC_AUTH_DATABASE_DENIED) is SharedErrorCode.databaseDenied in @arc/errors: query raises it too.
 */
export const AuthErrorCode = Object.freeze({
  /** No token in the request (401). */
  required: 'ARC_AUTH_REQUIRED',
  /** A token that is unknown, disabled or expired (401). */
  invalidToken: 'ARC_AUTH_INVALID_TOKEN',
  /** The token lacks the permission the route needs (403). */
  permissionDenied: 'ARC_AUTH_PERMISSION_DENIED',
  /** A token text that is empty, too long or has spaces or control characters. */
  badTokenText: 'ARC_AUTH_BAD_TOKEN_TEXT',
  /** A token name that does not match the name pattern. */
  badTokenName: 'ARC_AUTH_BAD_TOKEN_NAME',
  /** A permission that is not read, write, delete or admin, or none at all. */
  badPermission: 'ARC_AUTH_BAD_PERMISSION',
  /** A token description over its length limit. */
  badDescription: 'ARC_AUTH_BAD_DESCRIPTION',
  /** An empty list of databases (omit the list for all databases). */
  badDatabase: 'ARC_AUTH_BAD_DATABASE',
  /** An expiry that is not an integer time or not in the future. */
  badExpiry: 'ARC_AUTH_BAD_EXPIRY',
  /** Another token has this name (409). */
  tokenNameTaken: 'ARC_AUTH_TOKEN_NAME_TAKEN',
  /** The token table shared through the object store cannot be read (not JSON, a bad field, an unknown format). */
  tokenTableCorrupt: 'ARC_AUTH_TOKEN_TABLE_CORRUPT',
} as const);
export type AuthErrorCode = (typeof AuthErrorCode)[keyof typeof AuthErrorCode];
