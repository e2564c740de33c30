import { SharedErrorCode } from './error-codes.js';
import { ERROR_DETAIL_CHARS_MAX, ERROR_MESSAGE_CHARS_MAX } from './limits.js';

/**
 * Operating errors (bad input, full buffers, a failed disk) are values with a stable code and a
 * kind. The kind decides the HTTP status in exactly one place (the server's error mapper); the
 * code is what clients and tests match on. Errors cross threads as plain `ArcErrorShape` objects
 * because structured clone drops class identity.
 */
export const ErrorKind = Object.freeze({
  badRequest: 'bad_request',
  unauthorized: 'unauthorized',
  forbidden: 'forbidden',
  notFound: 'not_found',
  /** The request conflicts with what exists (a name taken): 409. */
  conflict: 'conflict',
  tooLarge: 'too_large',
  /** The request line and headers are over the server's limit: 431. */
  headersTooLarge: 'headers_too_large',
  /** The client sent its request body too slowly: 408. */
  requestTimeout: 'request_timeout',
  unavailable: 'unavailable',
  timeout: 'timeout',
  internal: 'internal',
} as const);
export type ErrorKind = (typeof ErrorKind)[keyof typeof ErrorKind];

export interface ArcErrorShape {
  readonly kind: ErrorKind;
  readonly code: string;
  readonly message: string;
  /** Where the problem is (column, line, byte offset, key): copied into the JSON error body. */
  readonly details?: Readonly<Record<string, string | number | boolean>>;
}

export class ArcError extends Error implements ArcErrorShape {
  readonly kind: ErrorKind;
  readonly code: string;
  readonly details?: Readonly<Record<string, string | number | boolean>>;

  /** Message and detail strings are cut to bounded lengths here (see ERROR_MESSAGE_CHARS_MAX). */
  constructor(kind: ErrorKind, code: string, message: string, details?: Record<string, string | number | boolean>) {
    super(truncateText(message, ERROR_MESSAGE_CHARS_MAX));
    this.name = 'ArcError';
    this.kind = kind;
    this.code = code;
    if (details !== undefined) this.details = boundedDetails(details);
  }

  toShape(): ArcErrorShape {
    const shape: { kind: ErrorKind; code: string; message: string; details?: Record<string, string | number | boolean> } = {
      kind: this.kind,
      code: this.code,
      message: this.message,
    };
    if (this.details !== undefined) shape.details = { ...this.details };
    return shape;
  }

  static fromShape(shape: ArcErrorShape): ArcError {
    return new ArcError(shape.kind, shape.code, shape.message, shape.details === undefined ? undefined : { ...shape.details });
  }
}

/**
 * `text` itself when it has at most `charsMax` characters, else its first `charsMax` characters
 * and a `...(N bytes)` marker, N being the UTF-8 length of the whole text. Errors quote input
 * through this, so what they echo never grows with the input.
 */
export function truncateText(text: string, charsMax: number): string {
  if (text.length <= charsMax) return text;
  // Never keep half of a surrogate pair: it would be a broken character in UTF-8 and JSON.
  const lastCode = text.charCodeAt(charsMax - 1);
  const end = lastCode >= 0xd800 && lastCode <= 0xdbff ? charsMax - 1 : charsMax;
  return `${text.slice(0, end)}...(${Buffer.byteLength(text)} bytes)`;
}

function boundedDetails(details: Record<string, string | number | boolean>): Record<string, string | number | boolean> {
  const bounded: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(details)) bounded[key] = typeof value === 'string' ? truncateText(value, ERROR_DETAIL_CHARS_MAX) : value;
  return bounded;
}

export function badRequest(code: string, message: string, details?: Record<string, string | number | boolean>): ArcError {
  return new ArcError(ErrorKind.badRequest, code, message, details);
}

/**
 * The token may not use `database`: the one wording of the write path's check (auth) and the
 * query path's (query), which do not depend on each other. No details: authorization bodies
 * are exactly `{"error": "..."}` (README, Authentication).
 */
export function databaseDenied(database: string): ArcError {
  return new ArcError(ErrorKind.forbidden, SharedErrorCode.databaseDenied, `Permission denied: no access to database '${database}'`);
}

export function isArcError(value: unknown): value is ArcError {
  return value instanceof ArcError;
}
