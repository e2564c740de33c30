import { ArcError, ErrorKind, truncateText } from '@arc/errors';
import { HttpJsonErrorCode } from './http-json-error-codes.js';
import type { HttpJsonSettings, HttpJsonSource } from './http-json-settings.js';
import { queryJsonPath, singularValue, type JsonPath } from './json-path.js';
import { HTTP_JSON_PAGE_BYTES_MAX } from './limits.js';

/**
 * One request to an HTTP JSON API and its answer read whole (at most HTTP_JSON_PAGE_BYTES_MAX)
 * and parsed. The secret goes in `Authorization: Bearer <secret>`, or as it is in the header
 * `auth_header` names. Failures are ArcErrors naming the step: unreachable or timed out and 5xx
 * answers are 503 (retry later), 4xx answers, non-JSON and oversized answers 400.
 */

export interface PageAnswer {
  readonly url: URL;
  readonly status: number;
  /** The `Server` header, when the API names itself. */
  readonly server: string | null;
  readonly json: unknown;
  readonly bytes: number;
}

/** The request URL: base URL + source path, source query, the range's time parameters, the page's parameters. */
export function baseUrl(settings: HttpJsonSettings, source: Pick<HttpJsonSource, 'path' | 'query'>): URL {
  const url = new URL(settings.url);
  if (source.path !== '') url.pathname = `${url.pathname.replace(/\/+$/, '')}/${source.path.replace(/^\/+/, '')}`;
  for (const [name, value] of Object.entries(source.query)) url.searchParams.set(name, value);
  return url;
}

/** What an error quotes of an answer's body. */
const QUOTED_BODY_CHARS = 200;

export function requestHeaders(settings: HttpJsonSettings, secret: string | null): Record<string, string> {
  const headers: Record<string, string> = { accept: 'application/json', ...settings.headers };
  if (settings.body !== null) headers['content-type'] = 'application/json';
  if (secret !== null && secret !== '') {
    if (settings.authHeader === null) headers.authorization = `Bearer ${secret}`;
    else headers[settings.authHeader.toLowerCase()] = secret;
  }
  return headers;
}

async function readBounded(response: Response, url: URL, bytesMax: number): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length') ?? '-1');
  const tooLarge = (): ArcError =>
    new ArcError(ErrorKind.badRequest, HttpJsonErrorCode.badAnswer, `The answer of ${url.origin}${url.pathname} is over ${bytesMax} bytes: ask the API for smaller pages`, { limit_bytes: bytesMax });
  if (declared > bytesMax) {
    await response.body?.cancel();
    throw tooLarge();
  }
  const parts: Uint8Array[] = [];
  let length = 0;
  if (response.body === null) return new Uint8Array(0);
  const reader = response.body.getReader() as ReadableStreamDefaultReader<Uint8Array>;
  for (let read = await reader.read(); !read.done; read = await reader.read()) {
    length += read.value.byteLength;
    if (length > bytesMax) {
      await reader.cancel();
      throw tooLarge();
    }
    parts.push(read.value);
  }
  return Buffer.concat(parts, length);
}

function unreachable(url: URL, error: unknown, timeoutMs: number): ArcError {
  const name = (error as Error).name;
  if (name === 'TimeoutError') return new ArcError(ErrorKind.unavailable, HttpJsonErrorCode.sourceUnavailable, `connect: ${url.origin} did not answer within ${timeoutMs} ms`, { step: 'connect' });
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const why = cause?.code ?? cause?.message ?? (error as Error).message;
  return new ArcError(ErrorKind.unavailable, HttpJsonErrorCode.sourceUnavailable, `connect: ${url.origin} cannot be reached (${why})`, { step: 'connect' });
}

function refusedStatus(url: URL, status: number, text: string): ArcError {
  const quoted = truncateText(text.trim(), QUOTED_BODY_CHARS);
  const step = status === 401 || status === 403 ? 'authenticate' : 'status';
  const message = `${step}: ${url.origin}${url.pathname} answered ${status}${quoted === '' ? '' : `: ${quoted}`}`;
  const kind = status >= 500 || status === 429 ? ErrorKind.unavailable : ErrorKind.badRequest;
  return new ArcError(kind, kind === ErrorKind.unavailable ? HttpJsonErrorCode.sourceUnavailable : HttpJsonErrorCode.sourceRefused, message, { step, status });
}

/** One request; `signal` ends it at once (a cancelled job), the settings' timeout too. An answer over `bytesMax` is refused. */
export async function fetchPage(settings: HttpJsonSettings, secret: string | null, url: URL, signal: AbortSignal, bytesMax = HTTP_JSON_PAGE_BYTES_MAX): Promise<PageAnswer> {
  let response: Response;
  let body: Uint8Array;
  try {
    response = await fetch(url, {
      method: settings.method,
      headers: requestHeaders(settings, secret),
      ...(settings.body === null ? {} : { body: settings.body }),
      redirect: 'error',
      signal: AbortSignal.any([signal, AbortSignal.timeout(settings.timeoutMs)]),
    });
    body = await readBounded(response, url, bytesMax);
  } catch (error) {
    if (signal.aborted || error instanceof ArcError) throw error;
    throw unreachable(url, error, settings.timeoutMs);
  }
  const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  if (response.status < 200 || response.status > 299) throw refusedStatus(url, response.status, text);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ArcError(ErrorKind.badRequest, HttpJsonErrorCode.badAnswer, `json: the answer of ${url.origin}${url.pathname} is not JSON (${(error as Error).message}): ${truncateText(text, QUOTED_BODY_CHARS)}`, { step: 'json' });
  }
  return { url, status: response.status, server: response.headers.get('server'), json, bytes: body.byteLength };
}

/**
 * The records of an answer: a singular `records` path names the array (JSON null reads as no
 * records, an API's way to say the last page is empty); a path with `*` or `..` selects the records
 * themselves. Each record must be a JSON object.
 */
export function recordsOf(records: JsonPath, answer: unknown, where: string): Record<string, unknown>[] {
  let nodes: unknown[];
  if (records.singular) {
    const value = singularValue(records, answer);
    if (value === null) return [];
    if (!Array.isArray(value)) {
      const what = value === undefined ? 'selects nothing' : `selects a JSON ${typeof value === 'object' ? 'object' : typeof value}, not an array`;
      throw new ArcError(ErrorKind.badRequest, HttpJsonErrorCode.badAnswer, `records: mapping.records '${records.text}' ${what} in the answer of ${where}`, { field: 'mapping.records', step: 'records' });
    }
    nodes = value as unknown[];
  } else {
    nodes = queryJsonPath(records, answer);
  }
  const index = nodes.findIndex((node) => node === null || typeof node !== 'object' || Array.isArray(node));
  if (index >= 0) throw new ArcError(ErrorKind.badRequest, HttpJsonErrorCode.badAnswer, `records: record ${index} of mapping.records '${records.text}' in the answer of ${where} is not a JSON object`, { field: 'mapping.records', step: 'records', record: index });
  return nodes as Record<string, unknown>[];
}
