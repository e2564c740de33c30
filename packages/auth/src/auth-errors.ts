import { ArcError, ErrorKind, databaseDenied } from '@arc/errors';
import type { Permission } from './permissions.js';
import { AuthErrorCode } from './error-codes.js';

/**
 * The authentication failures, with the exact messages the README documents (Authentication) (clients show them). They
 * carry no details: the error body must be exactly `{"error": "..."}`. Each call makes a new
 * error, so a stack trace points at the caller.
 */
export const AUTH_ERRORS = {
  /** No token in the request at all. */
  authenticationRequired: (): ArcError => new ArcError(ErrorKind.unauthorized, AuthErrorCode.required, 'Authentication required'),
  /** A token that is unknown, disabled or expired (which one is not told). */
  invalidToken: (): ArcError => new ArcError(ErrorKind.unauthorized, AuthErrorCode.invalidToken, 'Invalid or expired token'),
  /** A valid token without the permission. */
  permissionDenied: (permission: Permission): ArcError =>
    new ArcError(ErrorKind.forbidden, AuthErrorCode.permissionDenied, `Permission denied: ${permission} required`),
  /** A valid token with the permission, but limited to other databases. */
  databaseDenied,
} as const;
