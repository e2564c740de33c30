// Proves the permission rules (admin implies everything, other permissions imply nothing, database lists limit every permission but admin) over the full matrix, and that AUTH_ERRORS carry the exact statuses and messages of the README (Authentication).
import { describe, expect, it } from 'vitest';
import { ErrorKind } from '@arc/errors';
import { AUTH_ERRORS, PERMISSIONS, isAllowed } from '../src/index.js';
import type { Permission, TokenInfo } from '../src/index.js';

function token(permissions: Permission[], databases: string[] | null = null): TokenInfo {
  return { id: 1, name: 'name', permissions, databases, expiresAt: null };
}

describe('isAllowed', () => {
  it('admin implies every permission on every database, even with a database list', () => {
    for (const permission of PERMISSIONS) {
      expect(isAllowed(token(['admin']), permission)).toBe(true);
      expect(isAllowed(token(['admin']), permission, 'any')).toBe(true);
      expect(isAllowed(token(['admin'], ['prod']), permission, 'other')).toBe(true);
    }
  });

  it('a single permission grants exactly itself', () => {
    for (const held of ['read', 'write', 'delete'] as const) {
      for (const wanted of PERMISSIONS) {
        expect(isAllowed(token([held]), wanted), `${held} -> ${wanted}`).toBe(held === wanted);
      }
    }
  });

  it('a database list limits the databases; without a database only the permission is checked', () => {
    const limited = token(['read', 'write'], ['prod', 'staging']);
    expect(isAllowed(limited, 'read', 'prod')).toBe(true);
    expect(isAllowed(limited, 'write', 'staging')).toBe(true);
    expect(isAllowed(limited, 'read', 'dev')).toBe(false);
    expect(isAllowed(limited, 'read')).toBe(true);
    expect(isAllowed(limited, 'delete', 'prod')).toBe(false);
    expect(isAllowed(token(['read']), 'read', 'anything')).toBe(true);
  });
});

describe('AUTH_ERRORS', () => {
  it('have the statuses (kinds) and exact messages of the README (Authentication)', () => {
    expect(AUTH_ERRORS.authenticationRequired()).toMatchObject({ kind: ErrorKind.unauthorized, message: 'Authentication required' });
    expect(AUTH_ERRORS.invalidToken()).toMatchObject({ kind: ErrorKind.unauthorized, message: 'Invalid or expired token' });
    expect(AUTH_ERRORS.permissionDenied('write')).toMatchObject({ kind: ErrorKind.forbidden, message: 'Permission denied: write required' });
    expect(AUTH_ERRORS.databaseDenied('prod')).toMatchObject({ kind: ErrorKind.forbidden });
    expect(AUTH_ERRORS.invalidToken().toShape()).toEqual({ kind: 'unauthorized', code: 'ARC_AUTH_INVALID_TOKEN', message: 'Invalid or expired token' });
  });
});
