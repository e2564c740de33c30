/**
 * Codes raised by two packages of which neither may import the other (auth checks a token's
 * databases on writes, query checks them on reads; neither depends on the other). Every other
 * code lives in the `error-codes.ts` of the one package that raises it, and a code is in exactly
 * one table (packages/server/test/error-codes.test.ts checks it).
 */
export const SharedErrorCode = Object.freeze({
  /** The token may not use the database it names (403, write and query paths alike). */
  databaseDenied: 'ARC_AUTH_DATABASE_DENIED',
} as const);
export type SharedErrorCode = (typeof SharedErrorCode)[keyof typeof SharedErrorCode];
