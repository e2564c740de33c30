import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

/**
 * The HTTP side of the commands that talk to a running server (`arc compact`, `arc retention`,
 * `arc cq`, `arc delete`):
 * JSON in and out, the token as a Bearer header, and every failure (unreachable, a refusal) one
 * ServerRequestError whose message names the request and the server's reason and code.
 */

/** A server that refused or could not be reached: one line on stderr, exit 1. */
export class ServerRequestError extends Error {
  override readonly name: string = 'ServerRequestError';
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

/**
 * A server that answered with a non-2xx status. The message names the request; the fields keep
 * what the server said, for a command that words a refusal its own way (`arc delete`).
 */
export class ServerRefusalError extends ServerRequestError {
  override readonly name: string = 'ServerRefusalError';
  readonly status: number;
  /** The answer's `error` field, else its whole text (a proxy's page). */
  readonly reason: string;
  /** The answer's stable `code` field, null when it has none. */
  readonly code: string | null;

  constructor(method: string, path: string, status: number, reason: string, code: string | null) {
    super(`${method} ${path} answered ${String(status)}: ${reason}${code === null ? '' : ` (${code})`}`);
    this.status = status;
    this.reason = reason;
    this.code = code;
  }
}

/** The answer's JSON when its status is 2xx, else the ServerRefusalError naming the server's reason. */
function answerOf(method: string, path: string, status: number, text: string): unknown {
  const json = parseJson(text);
  if (status >= 200 && status < 300) return json;
  const reason = typeof json === 'object' && json !== null ? (json as { error?: unknown; code?: unknown }) : {};
  throw new ServerRefusalError(method, path, status, typeof reason.error === 'string' ? reason.error : text, typeof reason.code === 'string' ? reason.code : null);
}

export class ApiClient {
  readonly #baseUrl: string;
  readonly #headers: Record<string, string>;

  constructor(baseUrl: string, token: string | null) {
    this.#baseUrl = baseUrl;
    this.#headers = { 'content-type': 'application/json', ...(token === null ? {} : { authorization: `Bearer ${token}` }) };
  }

  #unreachable(why: string): ServerRequestError {
    return new ServerRequestError(`cannot reach Arc at ${this.#baseUrl} (${why}): is the server running? (--url)`);
  }

  /** The answer's JSON (null when it is not JSON); a non-2xx answer or no answer within `timeoutMs` throws. */
  async request(method: string, path: string, body: string | undefined, timeoutMs: number): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(`${this.#baseUrl}${path}`, { method, headers: this.#headers, body: body ?? null, signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw this.#unreachable(cause?.code ?? cause?.message ?? (error as Error).message);
    }
    return answerOf(method, path, response.status, await response.text());
  }

  /**
   * The same without a time limit, for a request that answers when long work ended (a retention
   * run over years of data, a delete rewriting gigabytes): fetch gives up after five minutes
   * without the answer's head, and would report a server still at work as unreachable.
   */
  async requestUntilAnswered(method: string, path: string, body: string, extraHeaders: Readonly<Record<string, string>> = {}): Promise<unknown> {
    const url = new URL(`${this.#baseUrl}${path}`);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const headers = { ...this.#headers, ...extraHeaders, 'content-length': String(Buffer.byteLength(body)) };
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      // No keep-alive: a pooled socket left open would hold the command's process for seconds after the answer.
      const request = send(url, { method, headers, agent: false }, (response) => {
        let received = '';
        response.setEncoding('utf8').on('data', (chunk: string) => (received += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text: received }));
        response.on('error', (error) => reject(this.#unreachable(error.message)));
      });
      request.on('error', (error: Error & { code?: string }) => reject(this.#unreachable(error.code ?? error.message)));
      request.end(body);
    });
    return answerOf(method, path, status, text);
  }
}
