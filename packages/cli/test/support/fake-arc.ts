// Test support for the commands that talk to a running server: a node:http server on a free local
// port playing Arc's endpoints, answering each request as the test's function says (at once, or
// when the test lets it), keeping every request it received, and stopped when the test ends.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { onTestFinished } from 'vitest';

export interface ReceivedRequest {
  readonly method: string;
  /** The path and query, as the request line has them. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** The body as text, '' without one. */
  readonly body: string;
}

/** What the fake answers: a status and a JSON body. */
export interface FakeAnswer {
  readonly status: number;
  readonly json: unknown;
}

export interface FakeArc {
  /** http://127.0.0.1:<port>, as --url takes it. */
  readonly url: string;
  /** Every request received, in order of arrival; one is recorded before it is answered. */
  readonly requests: ReceivedRequest[];
  /** Stops listening and drops open connections (the test's end does it too). */
  stop(): Promise<void>;
}

/** `METHOD /path?query body` (without the body when there is none): a request as one comparable string. */
export function requestLine(request: ReceivedRequest): string {
  return `${request.method} ${request.url}${request.body === '' ? '' : ` ${request.body}`}`;
}

/** Starts the fake; must be called inside a test (it stops when that test finishes). */
export async function startFakeArc(answer: (request: ReceivedRequest) => FakeAnswer | Promise<FakeAnswer>): Promise<FakeArc> {
  const requests: ReceivedRequest[] = [];
  const server = createServer((incoming, response) => {
    const respond = async (): Promise<void> => {
      let body = '';
      for await (const chunk of incoming) body += String(chunk);
      const request: ReceivedRequest = { method: incoming.method ?? '', url: incoming.url ?? '', headers: incoming.headers, body };
      requests.push(request);
      const { status, json } = await answer(request);
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
    };
    // A failing answer function (a test's assertion) is the command's 500, with the reason to read.
    respond().catch((error: unknown) => response.writeHead(500, { 'content-type': 'text/plain' }).end(String(error)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  let stopped: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopped ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      // A request the test held and never let answer would keep close() waiting for ever.
      server.closeAllConnections();
    });
    return stopped;
  };
  onTestFinished(stop);
  return { url: `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`, requests, stop };
}
