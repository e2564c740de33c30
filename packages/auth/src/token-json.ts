import type { TokenSummary } from './token-store.js';

/**
 * The JSON shapes of tokens, shared by the HTTP API (`/auth/tokens`) and `arc token ... --json`:
 * snake_case keys, times as RFC 3339 in UTC (null when absent). The token text appears only in
 * the answer to create and rotate; the hash never appears.
 */
export interface TokenJson {
  readonly id: number;
  readonly name: string;
  readonly description: string;
  readonly permissions: readonly string[];
  /** null: every database. */
  readonly databases: readonly string[] | null;
  readonly created_at: string;
  readonly last_used_at: string | null;
  readonly expires_at: string | null;
  readonly enabled: boolean;
}

/** What create and rotate answer: the issue's `{id, name, token, permissions, databases, created_at, expires_at}`. */
export type NewTokenJson = Pick<TokenJson, 'id' | 'name' | 'permissions' | 'databases' | 'created_at' | 'expires_at'> & { readonly token: string };

/** RFC 3339 date-time: a date, a time and an explicit offset (Z or ±hh:mm). */
const RFC3339_PATTERN = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

/** Milliseconds since the epoch of an RFC 3339 time, or null when the text is not one. */
export function parseRfc3339Ms(text: string): number | null {
  if (!RFC3339_PATTERN.test(text)) return null;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : ms;
}

export function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

export function tokenJson(summary: TokenSummary): TokenJson {
  return {
    id: summary.id,
    name: summary.name,
    description: summary.description,
    permissions: summary.permissions,
    databases: summary.databases,
    created_at: new Date(summary.createdAt).toISOString(),
    last_used_at: isoOrNull(summary.lastUsedAt),
    expires_at: isoOrNull(summary.expiresAt),
    enabled: summary.enabled,
  };
}

export function newTokenJson(summary: TokenSummary, token: string): NewTokenJson {
  return {
    id: summary.id,
    name: summary.name,
    token,
    permissions: summary.permissions,
    databases: summary.databases,
    created_at: new Date(summary.createdAt).toISOString(),
    expires_at: isoOrNull(summary.expiresAt),
  };
}

type DurationUnit = 'd' | 'h' | 'm' | 's';
const MS_PER_UNIT: Readonly<Record<DurationUnit, number>> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 };
/** One or more `<integer><unit>` parts, units d, h, m, s: '30d', '24h', '1h30m' (Go's durations plus days). */
const DURATION_PATTERN = /^(?:\d{1,9}[dhms])+$/;
const DURATION_PART = /(\d{1,9})([dhms])/g;

/**
 * Milliseconds of an `expires_in` duration ('24h', '7d', '1h30m'), as Arc's Python SDK and Arc's
 * other servers take it; null when the text is not a positive duration.
 */
export function parseExpiresIn(text: string): number | null {
  if (!DURATION_PATTERN.test(text)) return null;
  let total = 0;
  // Both groups of DURATION_PART are mandatory, and its unit class is exactly DurationUnit.
  for (const [, amount, unit] of text.matchAll(DURATION_PART)) total += Number(amount) * MS_PER_UNIT[unit as DurationUnit];
  return total > 0 ? total : null;
}
