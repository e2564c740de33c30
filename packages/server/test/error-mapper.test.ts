// Proves the one error mapper (http-response.ts) turns every error kind into its status and the
// documented body, by sending errors to a recording fake of uWS's response: plain and query
// styles, exact bodies for 401/403, details, Retry-After on 503, and the item error of a batch.
import type { HttpResponse } from 'uWebSockets.js';
import { describe, expect, it } from 'vitest';
import { ArcError, ErrorKind, badRequest, type ArcErrorShape } from '@arc/errors';
import { ErrorBodyStyle, itemErrorBody, newResponseState, sendError } from '../src/http-response.js';

interface Recorded {
  status: string;
  headers: Record<string, string>;
  body: string;
}

function send(error: ArcErrorShape, style?: ErrorBodyStyle): Recorded {
  const recorded: Recorded = { status: '', headers: {}, body: '' };
  const res = {
    onAborted: () => res,
    cork: (write: () => void) => {
      write();
      return res;
    },
    writeStatus: (status: string) => {
      recorded.status = status;
      return res;
    },
    writeHeader: (name: string, value: string) => {
      recorded.headers[name] = value;
      return res;
    },
    end: (body: string) => {
      recorded.body = body;
      return res;
    },
  } as unknown as HttpResponse;
  sendError(res, newResponseState(res), error, style);
  return recorded;
}

describe('the error mapper', () => {
  it.each([
    [ErrorKind.badRequest, '400 Bad Request'],
    [ErrorKind.unauthorized, '401 Unauthorized'],
    [ErrorKind.forbidden, '403 Forbidden'],
    [ErrorKind.notFound, '404 Not Found'],
    [ErrorKind.requestTimeout, '408 Request Timeout'],
    [ErrorKind.conflict, '409 Conflict'],
    [ErrorKind.tooLarge, '413 Payload Too Large'],
    [ErrorKind.headersTooLarge, '431 Request Header Fields Too Large'],
    [ErrorKind.internal, '500 Internal Server Error'],
    [ErrorKind.unavailable, '503 Service Unavailable'],
    [ErrorKind.timeout, '504 Gateway Timeout'],
  ])('answers %s with %s', (kind, status) => {
    expect(send(new ArcError(kind, 'ARC_TEST', 'm')).status).toBe(status);
  });

  it('writes {"error", "code", ...details} as JSON', () => {
    const answer = send(badRequest('ARC_TEST', 'bad line', { line: 3 }));
    expect(answer.headers['Content-Type']).toBe('application/json');
    expect(JSON.parse(answer.body)).toEqual({ error: 'bad line', code: 'ARC_TEST', line: 3 });
  });

  it('puts "success": false first for the query routes', () => {
    expect(send(badRequest('ARC_TEST', 'bad sql'), ErrorBodyStyle.query).body).toBe('{"success":false,"error":"bad sql","code":"ARC_TEST"}');
  });

  it('answers 401 and 403 with exactly {"error": ...}, whatever the details', () => {
    expect(send(new ArcError(ErrorKind.unauthorized, 'ARC_TEST', 'Authentication required')).body).toBe('{"error":"Authentication required"}');
    expect(send(new ArcError(ErrorKind.forbidden, 'ARC_TEST', 'no', { database: 'x' }), ErrorBodyStyle.query).body).toBe('{"error":"no"}');
  });

  it('tells a 503 when to retry, and nothing else', () => {
    expect(send(new ArcError(ErrorKind.unavailable, 'ARC_TEST', 'busy')).headers['Retry-After']).toMatch(/^[1-9][0-9]*$/);
    expect(send(new ArcError(ErrorKind.internal, 'ARC_TEST', 'x')).headers['Retry-After']).toBeUndefined();
  });

  it('gives an item of a batch answer its code and message only', () => {
    expect(itemErrorBody(badRequest('ARC_TEST', 'refused', { line: 1 }))).toEqual({ code: 'ARC_TEST', message: 'refused' });
  });
});
