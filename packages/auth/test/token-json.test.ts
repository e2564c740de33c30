// Proves the shared token JSON shapes (HTTP API and `arc token --json`) carry RFC 3339 times and
// never the hash, and that only RFC 3339 times with an explicit offset are accepted as expiries.
import { describe, expect, it } from 'vitest';
import { newTokenJson, parseExpiresIn, parseRfc3339Ms, tokenJson } from '../src/index.js';
import type { TokenSummary } from '../src/index.js';

const SUMMARY: TokenSummary = {
  id: 7,
  name: 'grafana',
  description: 'dashboards',
  permissions: ['read'],
  databases: ['prod'],
  expiresAt: Date.UTC(2030, 0, 31),
  createdAt: Date.UTC(2026, 0, 1),
  lastUsedAt: null,
  enabled: true,
};

describe('token JSON', () => {
  it('lists a token with snake_case keys and RFC 3339 times', () => {
    expect(tokenJson(SUMMARY)).toEqual({
      id: SUMMARY.id,
      name: 'grafana',
      description: 'dashboards',
      permissions: ['read'],
      databases: ['prod'],
      created_at: '2026-01-01T00:00:00.000Z',
      last_used_at: null,
      expires_at: '2030-01-31T00:00:00.000Z',
      enabled: true,
    });
  });

  it('answers create and rotate with exactly the documented keys', () => {
    expect(newTokenJson({ ...SUMMARY, expiresAt: null }, 'secret-text')).toEqual({
      id: SUMMARY.id,
      name: 'grafana',
      token: 'secret-text',
      permissions: ['read'],
      databases: ['prod'],
      created_at: '2026-01-01T00:00:00.000Z',
      expires_at: null,
    });
  });

  it.each([
    ['2030-01-31T00:00:00Z', Date.UTC(2030, 0, 31)],
    ['2030-01-31T01:00:00.5+01:00', Date.UTC(2030, 0, 31, 0, 0, 0, 500)],
    ['2030-01-31', null],
    ['2030-01-31T00:00:00', null],
    ['tomorrow', null],
    ['2030-13-01T00:00:00Z', null],
  ])('parses %s as %s', (text, expected) => {
    expect(parseRfc3339Ms(text)).toBe(expected);
  });
});

describe('parseExpiresIn', () => {
  it.each([
    ['24h', 86_400_000],
    ['30d', 30 * 86_400_000],
    ['1h30m', 5_400_000],
    ['90s', 90_000],
  ])('reads %s as %d ms', (text, ms) => {
    expect(parseExpiresIn(text)).toBe(ms);
  });

  it.each(['', '0h', '24', 'h', '-1d', '1.5h', '1w', '24 h', '2d3x'])('refuses %j', (text) => {
    expect(parseExpiresIn(text)).toBeNull();
  });
});
