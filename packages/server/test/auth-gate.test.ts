// Proves that the acceptor's AuthGate answers each kind of caller with the right error value,
// counts every refusal under its reason, and forgets cached tokens on invalidate(), by checking
// requests against a real TokenStore (in memory) through a real TokenVerifier.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TokenStore, TokenVerifier } from '@arc/auth';
import { ArcError } from '@arc/errors';
import { AuthGate } from '../src/auth-gate.js';
import type { RequestInfo } from '../src/request-info.js';

let store: TokenStore;
let gate: AuthGate;

beforeEach(() => {
  store = TokenStore.open(':memory:');
  gate = new AuthGate(new TokenVerifier(store, 30_000));
});

afterEach(() => {
  store.close();
});

function request(authorization: string, query = ''): RequestInfo {
  return { method: 'POST', url: '/write', query: new URLSearchParams(query), authorization, apiKey: '', database: '', contentLength: '', closesConnection: false, receivedAtUs: 0 };
}

function errorOf(result: unknown): { code: string; message: string } {
  expect(result).toBeInstanceOf(ArcError);
  const error = result as ArcError;
  return { code: error.code, message: error.message };
}

describe('AuthGate', () => {
  it('refuses and counts: no token, an unknown token, a missing permission, a foreign database', async () => {
    const { token } = store.create({ name: 'scoped', permissions: ['write'], databases: ['a'] });
    expect(errorOf(await gate.check(request(''), 'write', 'a'))).toEqual({ code: 'ARC_AUTH_REQUIRED', message: 'Authentication required' });
    expect(errorOf(await gate.check(request('Bearer nope'), 'write', 'a'))).toEqual({ code: 'ARC_AUTH_INVALID_TOKEN', message: 'Invalid or expired token' });
    expect(errorOf(await gate.check(request('', 'p=nope-either'), 'write', 'a'))).toEqual({ code: 'ARC_AUTH_INVALID_TOKEN', message: 'Invalid or expired token' });
    expect(errorOf(await gate.check(request(`Bearer ${token}`), 'read', 'a'))).toEqual({ code: 'ARC_AUTH_PERMISSION_DENIED', message: 'Permission denied: read required' });
    expect(errorOf(await gate.check(request(`Bearer ${token}`), 'write', 'b'))).toEqual({
      code: 'ARC_AUTH_DATABASE_DENIED',
      message: "Permission denied: no access to database 'b'",
    });
    expect(await gate.check(request(`Bearer ${token}`), 'write', 'a')).toMatchObject({ name: 'scoped' });
    expect(gate.failureCounts()).toEqual({ missing_token: 1, invalid_token: 2, permission_denied: 2 });
  });

  it('identify accepts any valid token whatever its permissions', async () => {
    const { token } = store.create({ name: 'reader', permissions: ['read'] });
    expect(await gate.identify(request(`Token ${token}`))).toMatchObject({ name: 'reader', permissions: ['read'] });
    expect(gate.failureCounts()).toEqual({ missing_token: 0, invalid_token: 0, permission_denied: 0 });
  });

  it('a revoked token keeps its cached answer until invalidate(), then is refused', async () => {
    const { info, token } = store.create({ name: 'cached', permissions: ['write'] });
    expect(await gate.check(request(`Bearer ${token}`), 'write', null)).toMatchObject({ name: 'cached' });
    store.setEnabled(info.id, false);
    expect(await gate.check(request(`Bearer ${token}`), 'write', null)).toMatchObject({ name: 'cached' });
    gate.invalidate();
    expect(errorOf(await gate.check(request(`Bearer ${token}`), 'write', null)).code).toBe('ARC_AUTH_INVALID_TOKEN');
  });

  it('with authentication disabled, every request is admin and nothing is counted', async () => {
    const open = new AuthGate(null);
    expect(open.enabled).toBe(false);
    expect(await open.check(request(''), 'admin', 'any')).toMatchObject({ name: 'auth-disabled', permissions: ['admin'] });
    expect(open.failureCounts()).toEqual({ missing_token: 0, invalid_token: 0, permission_denied: 0 });
  });
});
