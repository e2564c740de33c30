// Proves that extractToken finds the token in every place the README lists (Bearer, Token, Basic password, x-api-key, ?p= with or without ?u=) and returns null when there is none, by feeding it header and query combinations.
import { describe, expect, it } from 'vitest';
import { extractToken } from '../src/index.js';

const none = new URLSearchParams();
const basic = (credentials: string): string => `Basic ${Buffer.from(credentials).toString('base64')}`;

describe('extractToken', () => {
  it.each([
    ['Bearer', { authorization: 'Bearer abc123' }],
    ['bearer, lower case and extra spaces', { authorization: '  bearer    abc123  ' }],
    ['Token (InfluxDB 2.x)', { authorization: 'Token abc123' }],
    ['Basic, password part (InfluxDB 1.x)', { authorization: basic('telegraf:abc123') }],
    ['Basic with a colon in the password', { authorization: basic('u:abc123') }],
    ['x-api-key', { 'x-api-key': 'abc123' }],
    ['x-api-key given twice', { 'x-api-key': ['abc123', 'other'] }],
  ])('reads %s', (_label, headers) => {
    expect(extractToken(headers, none)).toBe('abc123');
  });

  it('keeps everything after the first colon of a Basic password', () => {
    expect(extractToken({ authorization: basic('user:pa:ss') }, none)).toBe('pa:ss');
  });

  it('reads ?p= alone and with ?u=', () => {
    expect(extractToken({}, new URLSearchParams('p=abc123'))).toBe('abc123');
    expect(extractToken({}, new URLSearchParams('db=x&u=telegraf&p=abc123'))).toBe('abc123');
  });

  it('prefers Authorization over x-api-key over ?p=', () => {
    const query = new URLSearchParams('p=from-query');
    expect(extractToken({ authorization: 'Bearer from-auth', 'x-api-key': 'from-key' }, query)).toBe('from-auth');
    expect(extractToken({ 'x-api-key': 'from-key' }, query)).toBe('from-key');
    expect(extractToken({ authorization: 'Digest realm="x"', 'x-api-key': 'from-key' }, query)).toBe('from-key');
  });

  it.each([
    ['nothing', {}, ''],
    ['an empty Bearer', { authorization: 'Bearer ' }, ''],
    ['a scheme alone', { authorization: 'Bearer' }, ''],
    ['an unknown scheme', { authorization: 'Digest abc' }, ''],
    ['Basic without a password', { authorization: basic('useronly') }, ''],
    ['Basic with an empty password', { authorization: basic('user:') }, ''],
    ['an empty x-api-key', { 'x-api-key': '  ' }, ''],
    ['an empty ?p=', {}, 'u=telegraf&p='],
    ['?u= alone', {}, 'u=telegraf'],
  ])('returns null for %s', (_label, headers, query) => {
    expect(extractToken(headers, new URLSearchParams(query))).toBeNull();
  });
});
