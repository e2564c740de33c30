// Proves that AuthFailureCounter counts each refused attempt under its reason and that its
// snapshot is a copy, by recording failures and reading the counts back.
import { describe, expect, it } from 'vitest';
import { AuthFailureCounter, AuthFailureReason } from '../src/index.js';

describe('AuthFailureCounter', () => {
  it('counts failures by reason and in total', () => {
    const counter = new AuthFailureCounter();
    expect(counter.counts()).toEqual({ missing_token: 0, invalid_token: 0, permission_denied: 0 });
    counter.record(AuthFailureReason.invalidToken);
    counter.record(AuthFailureReason.invalidToken);
    counter.record(AuthFailureReason.missingToken);
    const before = counter.counts();
    counter.record(AuthFailureReason.permissionDenied);
    expect(before).toEqual({ missing_token: 1, invalid_token: 2, permission_denied: 0 });
    expect(counter.counts()).toEqual({ missing_token: 1, invalid_token: 2, permission_denied: 1 });
    expect(counter.total).toBe(4);
  });
});
