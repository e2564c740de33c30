// The access the API description states for each operation (public, any token, or a permission)
// is what the real server enforces: every documented method and path is called with no token and
// with tokens holding only `read` or only `write`, and the 401/403 answers must match the
// description exactly (a route that is stricter or looser than documented fails).
import { beforeAll, describe, expect, it } from 'vitest';
import { API_OPERATIONS } from '../src/openapi/document.js';
import { type Access, type ApiMethod } from '../src/openapi/api-operation.js';
import type { HttpAnswer } from './support/arc-client.js';
import { useSharedArc } from './support/shared-arc.js';
import { createToken, send } from './support/token-helpers.js';

const shared = useSharedArc();

/** A value for each path parameter: any well-formed one will do, the token is checked first. */
const PARAMETER_VALUES: Readonly<Record<string, string>> = { id: '1', name: 'default', measurement: 'cpu', type: 'system', file: 'swagger-ui.css' };

const tokens: Record<'read' | 'write', string> = { read: '', write: '' };

beforeAll(async () => {
  tokens.read = (await createToken(shared.arc.url, { name: 'openapi-read', permissions: ['read'] })).token;
  tokens.write = (await createToken(shared.arc.url, { name: 'openapi-write', permissions: ['write'] })).token;
});

interface Call {
  readonly route: string;
  readonly method: ApiMethod;
  readonly path: string;
  readonly access: Access;
}

const CALLS: readonly Call[] = API_OPERATIONS.flatMap((operation) =>
  operation.paths
    .map((path) => ({
      route: `${operation.method.toUpperCase()} ${path}`,
      method: operation.method,
      path: path.replace(/\{([^}]+)\}/g, (_, name: string) => PARAMETER_VALUES[name] ?? 'x'),
      access: operation.access,
    })),
);

function call(target: Call, token: string | null): Promise<HttpAnswer> {
  // Bodies are left out: a refusal comes before the body is looked at, an allowed call may answer 400.
  return send(shared.arc.url, target.method.toUpperCase(), target.path, { token });
}

const isRefusal = (answer: HttpAnswer): boolean => answer.status === 401 || answer.status === 403;

describe('documented access', () => {
  it('covers every documented operation but those awaiting merge', () => {
    expect(CALLS.length).toBeGreaterThan(90);
  });

  it('without a token: 401 exactly where the description says a token is needed', async () => {
    const wrong: string[] = [];
    for (const target of CALLS) {
      const answer = await call(target, null);
      const refused = answer.status === 401 && answer.text === '{"error":"Authentication required"}';
      if (refused !== (target.access !== 'public')) wrong.push(`${target.route} (${target.access}): ${String(answer.status)} ${answer.text.slice(0, 120)}`);
    }
    expect(wrong).toEqual([]);
  });

  it('a token holding one permission: allowed where the description names it (or any token), 403 naming the permission elsewhere', async () => {
    const wrong: string[] = [];
    for (const held of ['read', 'write'] as const) {
      for (const target of CALLS.filter(({ access }) => access !== 'public')) {
        const answer = await call(target, tokens[held]);
        const allowed = target.access === 'token' || target.access === held;
        const expected = allowed ? !isRefusal(answer) : answer.status === 403 && answer.text === JSON.stringify({ error: `Permission denied: ${target.access} required` });
        if (!expected) wrong.push(`${target.route} (${target.access}) with ${held}: ${String(answer.status)} ${answer.text.slice(0, 120)}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
