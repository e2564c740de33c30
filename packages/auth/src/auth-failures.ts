/**
 * Why a request was refused by authentication or authorization. Counted separately: a flood of
 * `invalid_token` is a guessing attack or a rotated secret still deployed somewhere, while
 * `permission_denied` is usually a misconfigured client.
 */
export const AuthFailureReason = {
  missingToken: 'missing_token',
  invalidToken: 'invalid_token',
  permissionDenied: 'permission_denied',
} as const;
export type AuthFailureReason = (typeof AuthFailureReason)[keyof typeof AuthFailureReason];

export type AuthFailureCounts = Readonly<Record<AuthFailureReason, number>>;

/**
 * Failed authentication attempts since the process started, by reason: what the metrics endpoint
 * exports (`arc_auth_failures_total{reason=...}`). Never holds the tokens themselves.
 */
export class AuthFailureCounter {
  readonly #counts: Record<AuthFailureReason, number> = { missing_token: 0, invalid_token: 0, permission_denied: 0 };

  record(reason: AuthFailureReason): void {
    this.#counts[reason] += 1;
  }

  /** A copy of the counts: later failures do not change it. */
  counts(): AuthFailureCounts {
    return { ...this.#counts };
  }

  get total(): number {
    return this.#counts.missing_token + this.#counts.invalid_token + this.#counts.permission_denied;
  }
}
