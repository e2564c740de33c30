import {
  AUTH_ERRORS,
  AuthFailureCounter,
  AuthFailureReason,
  extractToken,
  isAllowed,
  type AuthFailureCounts,
  type Permission,
  type TokenInfo,
  type TokenVerifier,
} from '@arc/auth';
import { ArcError, ErrorKind } from '@arc/errors';
import type { RequestInfo } from './request-info.js';
import { ServerErrorCode } from './error-codes.js';

/** The identity used when `auth.enabled = false` (local use only; logged loudly at start). */
const AUTH_DISABLED_IDENTITY: TokenInfo = { id: 0, name: 'auth-disabled', permissions: ['admin'], databases: null, expiresAt: null };

/**
 * Checks the token of a request against the permission a route needs. Tokens come from the
 * header forms the README lists; verification is cached (TokenVerifier), so the common case costs
 * a SHA-256 and a map lookup. Every refusal is counted by reason (for /metrics). Token text is
 * never logged or put in an error.
 */
export class AuthGate {
  private readonly verifier: TokenVerifier | null;
  private readonly failures = new AuthFailureCounter();

  constructor(verifier: TokenVerifier | null) {
    this.verifier = verifier;
  }

  get enabled(): boolean {
    return this.verifier !== null;
  }

  /** Refused attempts since start, by reason: what /metrics exports. */
  failureCounts(): AuthFailureCounts {
    return this.failures.counts();
  }

  /**
   * Forgets every cached verification: after a token is revoked, rotated, changed or deleted on
   * this node, its old text stops working at the next request (with an object store, other nodes
   * call this when their next read of the shared token table brings the change: token-sync.ts).
   */
  invalidate(): void {
    this.verifier?.invalidate();
  }

  /**
   * The token's identity if it holds `permission` (on `database` when given), else the 401/403.
   * Never rejects: a failure of the token store itself becomes an internal error value.
   */
  async check(request: RequestInfo, permission: Permission, database: string | null): Promise<TokenInfo | ArcError> {
    const identity = await this.identify(request);
    if (identity instanceof ArcError) return identity;
    const denied = this.authorize(identity, permission, database);
    return denied ?? identity;
  }

  /** Any valid token, whatever it may do (GET /auth/verify), else the 401. Never rejects. */
  async identify(request: RequestInfo): Promise<TokenInfo | ArcError> {
    try {
      return await this.verify(request);
    } catch (error) {
      return new ArcError(ErrorKind.internal, ServerErrorCode.authFailed, `Token verification failed: ${(error as Error).message}`);
    }
  }

  /** The 403 when `identity` lacks `permission` (on `database`), else null; counted. */
  authorize(identity: TokenInfo, permission: Permission, database: string | null): ArcError | null {
    if (!isAllowed(identity, permission)) return this.refuse(AuthFailureReason.permissionDenied, AUTH_ERRORS.permissionDenied(permission));
    if (database !== null && !isAllowed(identity, permission, database)) {
      return this.refuse(AuthFailureReason.permissionDenied, AUTH_ERRORS.databaseDenied(database));
    }
    return null;
  }

  private async verify(request: RequestInfo): Promise<TokenInfo | ArcError> {
    if (this.verifier === null) return AUTH_DISABLED_IDENTITY;
    const headers = {
      ...(request.authorization === '' ? {} : { authorization: request.authorization }),
      ...(request.apiKey === '' ? {} : { 'x-api-key': request.apiKey }),
    };
    const token = extractToken(headers, request.query);
    if (token === null) return this.refuse(AuthFailureReason.missingToken, AUTH_ERRORS.authenticationRequired());
    const info = await this.verifier.verify(token);
    if (info === null) return this.refuse(AuthFailureReason.invalidToken, AUTH_ERRORS.invalidToken());
    return info;
  }

  private refuse(reason: AuthFailureReason, error: ArcError): ArcError {
    this.failures.record(reason);
    return error;
  }
}
