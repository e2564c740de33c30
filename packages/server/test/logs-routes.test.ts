// Proves GET /logs reads its filters as documented and refuses a bad level, since or limit with a
// 400 naming the parameter, and that X-Request-Id values are taken only when short and plain, by
// calling the parsers directly.
import { describe, expect, it } from 'vitest';
import { ArcError } from '@arc/errors';
import { ServerErrorCode } from '../src/error-codes.js';
import { LOGS_ANSWER_LINES_DEFAULT, LOGS_ANSWER_LINES_MAX, REQUEST_ID_CHARS_MAX } from '../src/limits.js';
import { parseLogFilter } from '../src/logs-routes.js';
import { requestIdFrom } from '../src/request-id.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('GET /logs filters', () => {
  it('defaults to every level, no time bound, the default count', () => {
    expect(parseLogFilter(new URLSearchParams(''))).toEqual({ levelMin: 'debug', sinceMs: null, limit: LOGS_ANSWER_LINES_DEFAULT });
  });

  it('reads a level, an RFC 3339 or epoch-ms since, and a limit', () => {
    expect(parseLogFilter(new URLSearchParams('level=WARN&since=2026-01-31T12:00:00Z&limit=5'))).toEqual({ levelMin: 'warn', sinceMs: Date.parse('2026-01-31T12:00:00Z'), limit: 5 });
    expect(parseLogFilter(new URLSearchParams('since=2026-01-31T12:00:00.250%2B01:00'))).toMatchObject({ sinceMs: Date.parse('2026-01-31T11:00:00.250Z') });
    expect(parseLogFilter(new URLSearchParams('since=1769860800000'))).toMatchObject({ sinceMs: 1769860800000 });
  });

  it.each([
    ['level=verbose', 'level'],
    ['level=', null],
    ['since=yesterday', 'since'],
    ['since=2026-01-31', 'since'],
    ['since=-5', 'since'],
    ['limit=0', 'limit'],
    ['limit=abc', 'limit'],
    [`limit=${LOGS_ANSWER_LINES_MAX + 1}`, 'limit'],
  ])('%s', (query, parameter) => {
    const filter = parseLogFilter(new URLSearchParams(query));
    if (parameter === null) {
      expect(filter).not.toBeInstanceOf(ArcError);
      return;
    }
    expect(filter).toBeInstanceOf(ArcError);
    const error = filter as ArcError;
    expect(error.code).toBe(ServerErrorCode.queryBadParameter);
    expect(error.details).toEqual({ parameter });
    expect(error.message).toContain(`"${parameter}"`);
  });
});

describe('request ids', () => {
  it('takes a short plain id as sent', () => {
    for (const id of ['abc', 'req-1.2_3:4', '0af7651916cd43dd8448eb211c80319c', 'YWJj+/=', 'x'.repeat(REQUEST_ID_CHARS_MAX)]) expect(requestIdFrom(id)).toBe(id);
  });

  it('replaces a missing, long or oddly written id with a UUID', () => {
    for (const id of ['', 'x'.repeat(REQUEST_ID_CHARS_MAX + 1), 'a b', 'a"b', 'a\nb', 'ü', '<script>']) expect(requestIdFrom(id)).toMatch(UUID);
  });
});
