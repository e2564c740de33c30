import { Packr } from 'msgpackr';
import { TEST_TOKEN } from './arc-process.js';

const packr = new Packr({ useRecords: false });
export const msgpack = (value: unknown): Uint8Array => packr.pack(value);

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The body parsed as JSON; a caller that expects a shape says so with `as` (it is not checked). */
  json(): unknown;
}

async function answer(response: Response): Promise<HttpAnswer> {
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) as unknown };
}

export interface WriteOptions {
  readonly database?: string;
  readonly token?: string | null;
  readonly path?: string;
  readonly headers?: Record<string, string>;
}

/** A small client for tests: every call returns status, headers and body text. */
export class ArcClient {
  readonly url: string;

  constructor(url: string) {
    this.url = url;
  }

  authHeaders(token: string | null = TEST_TOKEN): Record<string, string> {
    return token === null ? {} : { Authorization: `Bearer ${token}` };
  }

  async write(body: Uint8Array, options: WriteOptions = {}): Promise<HttpAnswer> {
    const headers: Record<string, string> = { ...this.authHeaders(options.token), 'Content-Type': 'application/msgpack', ...options.headers };
    if (options.database !== undefined) headers['x-arc-database'] = options.database;
    return answer(await fetch(`${this.url}${options.path ?? '/write/v2/msgpack'}`, { method: 'POST', headers, body }));
  }

  async flush(): Promise<HttpAnswer> {
    return answer(await fetch(`${this.url}/write/flush`, { method: 'POST', headers: this.authHeaders() }));
  }

  async query(sql: string, database?: string, token: string | null = TEST_TOKEN): Promise<HttpAnswer> {
    const headers: Record<string, string> = { ...this.authHeaders(token), 'Content-Type': 'application/json' };
    if (database !== undefined) headers['x-arc-database'] = database;
    return answer(await fetch(`${this.url}/query`, { method: 'POST', headers, body: JSON.stringify({ sql, format: 'json' }) }));
  }

  /** Rows of a successful query (fails the test with the body otherwise). */
  async rows(sql: string, database?: string): Promise<unknown[][]> {
    const result = await this.query(sql, database);
    if (result.status !== 200) throw new Error(`query failed ${result.status}: ${result.text}`);
    return (result.json() as { data: unknown[][] }).data;
  }

  async get(path: string, headers: Record<string, string> = {}): Promise<HttpAnswer> {
    return answer(await fetch(`${this.url}${path}`, { headers }));
  }

  async post(path: string, body: string | Uint8Array, headers: Record<string, string> = {}): Promise<HttpAnswer> {
    return answer(await fetch(`${this.url}${path}`, { method: 'POST', headers, body }));
  }
}
