/** What a token may do. `admin` implies every permission on every database. */
export const PERMISSIONS = ['read', 'write', 'delete', 'admin'] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** A verified token, as the server sees it. Never holds the token text or its hash. */
export interface TokenInfo {
  /** A positive integer; 0 only for the identity of requests when authentication is off. */
  readonly id: number;
  readonly name: string;
  readonly permissions: readonly Permission[];
  /** Databases the token may touch; null means all of them. */
  readonly databases: readonly string[] | null;
  /** Milliseconds since the epoch; null means the token never expires. */
  readonly expiresAt: number | null;
}

export function isPermission(value: unknown): value is Permission {
  return typeof value === 'string' && (PERMISSIONS as readonly string[]).includes(value);
}

/**
 * True when the token holds `permission` (or admin) and, when `database` is given, may touch that
 * database. Without a database only the permission is checked: callers that act on a database
 * must pass it. Permissions do not imply each other except through admin (write is not read).
 */
export function isAllowed(info: TokenInfo, permission: Permission, database?: string): boolean {
  if (info.permissions.includes('admin')) return true;
  if (!info.permissions.includes(permission)) return false;
  if (database === undefined || info.databases === null) return true;
  return info.databases.includes(database);
}
