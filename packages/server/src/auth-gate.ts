import { AUTH_ERRORS, extractToken, isAllowed, type Permission, type TokenInfo, type TokenVerifier } from '@arc/auth';
import { ArcError, ErrorKind } from '@arc/config';
import type { RequestInfo } from './request-info.js';

/** The identity used when `auth.enabled = false` (local use only; logged loudly at start). */
const AUTH_DISABLED_IDENTITY: TokenInfo = { id: 'auth-disabled', name: 'auth-disabled', permissions: ['admin'], databases: null, expiresAt: null };

/**
 * Checks the token of a request against the permission a route needs. Tokens come from the
 * header forms of PROTOCOLS.md; verification is cached (TokenVerifier), so the common case costs
 * a SHA-256 and a map lookup.
 */
export class AuthGate {
  private readonly verifier: TokenVerifier | null;

  constructor(verifier: TokenVerifier | null) {
    this.verifier = verifier;
  }

  get enabled(): boolean {
    return this.verifier !== null;
  }

  /** Never rejects: a failure of the token store itself becomes an internal error value. */
  async check(request: RequestInfo, permission: Permission, database: string | null): Promise<TokenInfo | ArcError> {
    try {
      return await this.checkToken(request, permission, database);
    } catch (error) {
      return new ArcError(ErrorKind.internal, 'ARC_AUTH_FAILED', `Token verification failed: ${(error as Error).message}`);
    }
  }

  private async checkToken(request: RequestInfo, permission: Permission, database: string | null): Promise<TokenInfo | ArcError> {
    if (this.verifier === null) return AUTH_DISABLED_IDENTITY;
    const headers = {
      ...(request.authorization === '' ? {} : { authorization: request.authorization }),
      ...(request.apiKey === '' ? {} : { 'x-api-key': request.apiKey }),
    };
    const token = extractToken(headers, request.query);
    if (token === null) return AUTH_ERRORS.authenticationRequired();
    const info = await this.verifier.verify(token);
    if (info === null) return AUTH_ERRORS.invalidToken();
    if (!isAllowed(info, permission)) return AUTH_ERRORS.permissionDenied(permission);
    if (database !== null && !isAllowed(info, permission, database)) return AUTH_ERRORS.databaseDenied(database);
    return info;
  }
}
