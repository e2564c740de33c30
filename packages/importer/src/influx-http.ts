import { ArcError, ErrorKind } from '@arc/errors';
import { ImporterErrorCode } from './error-codes.js';
import { INFLUX_ANSWER_BYTES_MAX } from './limits.js';

/**
 * HTTP as both InfluxDB drivers use it: a network failure is a `connect:` error naming the server
 * and the system's reason, an abort (the job cancelled) stays an abort, and an answer is read whole
 * under INFLUX_ANSWER_BYTES_MAX.
 */

export function sourceError(message: string): ArcError {
  return new ArcError(ErrorKind.unavailable, ImporterErrorCode.sourceFailed, message);
}

/** Why fetch failed, with the system's words (ECONNREFUSED, ENOTFOUND) that fetch keeps in `cause`. */
export function fetchFailureText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}

/** A fetch whose network failure is a `connect:` error; an abort (the job cancelled) stays an abort. */
export async function fetchOrConnectError(url: string, init: RequestInit & { signal: AbortSignal }): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (error) {
    if (init.signal.aborted) throw error;
    throw sourceError(`connect: could not reach ${new URL(url).origin}: ${fetchFailureText(error)}`);
  }
}

/** The answer's text, refused past INFLUX_ANSWER_BYTES_MAX. */
export async function answerText(response: Response): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > INFLUX_ANSWER_BYTES_MAX) throw sourceError(`query: the answer is ${String(declared)} bytes, over ${String(INFLUX_ANSWER_BYTES_MAX)}`);
  const text = await response.text();
  if (text.length > INFLUX_ANSWER_BYTES_MAX) throw sourceError(`query: the answer is over ${String(INFLUX_ANSWER_BYTES_MAX)} bytes`);
  return text;
}

