import path from 'node:path';
import { TokenStore } from '@arc/auth';
import type { HttpAnswer } from './arc-client.js';
import { TEST_TOKEN } from './arc-process.js';

/** Any method, any path, JSON body if given; the token as `Authorization: Bearer` unless null. */
export async function send(
  url: string,
  method: string,
  pathAndQuery: string,
  options: { token?: string | null; body?: unknown; headers?: Record<string, string> } = {},
): Promise<HttpAnswer> {
  const token = options.token === undefined ? TEST_TOKEN : options.token;
  const headers: Record<string, string> = { ...(token === null ? {} : { Authorization: `Bearer ${token}` }), ...options.headers };
  const init: RequestInit = { method, headers };
  if (options.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  }
  const response = await fetch(`${url}${pathAndQuery}`, init);
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) as unknown };
}

export interface CreatedToken {
  readonly id: number;
  readonly name: string;
  readonly token: string;
  readonly permissions: string[];
  readonly databases: string[] | null;
  readonly created_at: string;
  readonly expires_at: string | null;
}

/** POST /auth/tokens as the test admin; fails the test unless it answers 201. */
export async function createToken(url: string, body: Record<string, unknown>): Promise<CreatedToken> {
  const answer = await send(url, 'POST', '/auth/tokens', { body });
  if (answer.status !== 201) throw new Error(`creating token ${JSON.stringify(body)} failed: ${answer.status} ${answer.text}`);
  return answer.json() as CreatedToken;
}

/**
 * Writes an already expired token straight into the server's arc.db: the store's clock is set an
 * hour back, so an expiry half an hour ago was "in the future" when the token was created.
 */
export function createExpiredToken(dataDir: string, name: string, permissions: string[]): string {
  const hourAgo = Date.now() - 3_600_000;
  const store = TokenStore.open(path.join(dataDir, 'arc.db'), { now: () => hourAgo });
  try {
    return store.create({ name, permissions, expiresAt: hourAgo + 1_800_000 }).token;
  } finally {
    store.close();
  }
}
