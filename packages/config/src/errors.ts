/**
 * Operating errors (bad input, full buffers, a failed disk) are values with a stable code and a
 * kind. The kind decides the HTTP status in exactly one place (the server's error mapper); the
 * code is what clients and tests match on. Errors cross threads as plain `ArcErrorShape` objects
 * because structured clone drops class identity.
 */
export const ErrorKind = {
  badRequest: 'bad_request',
  unauthorized: 'unauthorized',
  forbidden: 'forbidden',
  notFound: 'not_found',
  /** The request conflicts with what exists (a name taken): 409. */
  conflict: 'conflict',
  tooLarge: 'too_large',
  unavailable: 'unavailable',
  timeout: 'timeout',
  internal: 'internal',
} as const;
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

  constructor(kind: ErrorKind, code: string, message: string, details?: Record<string, string | number | boolean>) {
    super(message);
    this.name = 'ArcError';
    this.kind = kind;
    this.code = code;
    if (details !== undefined) this.details = details;
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

export function badRequest(code: string, message: string, details?: Record<string, string | number | boolean>): ArcError {
  return new ArcError(ErrorKind.badRequest, code, message, details);
}

export function isArcError(value: unknown): value is ArcError {
  return value instanceof ArcError;
}
