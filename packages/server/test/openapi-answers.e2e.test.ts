// What the API description says the operations answer is what the real server answers: every
// documented GET and HEAD path, and the query operations with valid and invalid bodies, are called
// with the admin token after a row is written; each answer's status must be a documented one and
// its body must pass the documented zod schema (the success schema of its status and content type,
// or the error body of the operation's style).
import { beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { API_OPERATIONS } from '../src/openapi/document.js';
import { type ApiOperation } from '../src/openapi/api-operation.js';
import { authErrorBodySchema, errorBodySchema, influxV2ErrorBodySchema, queryErrorBodySchema } from '../src/openapi/response-schemas.js';
import { msgpack } from './support/arc-client.js';
import { useSharedArc } from './support/shared-arc.js';
import { send } from './support/token-helpers.js';

const shared = useSharedArc();

/** Names that exist once beforeAll has written its row (token 1 is the bootstrap admin token). */
const PARAMETER_VALUES: Readonly<Record<string, string>> = { id: '1', name: 'default', measurement: 'cpu', type: 'system', file: 'swagger-ui.css' };

/** Statuses any route may answer besides its own (request-head.ts). */
const EVERY_ROUTE_ERRORS = [413, 431];

const ERROR_SCHEMAS: Readonly<Record<NonNullable<ApiOperation['errorStyle']>, z.ZodType>> = { plain: errorBodySchema, query: queryErrorBodySchema, influxV2: influxV2ErrorBodySchema };

beforeAll(async () => {
  const written = await shared.client.write(msgpack({ m: 'cpu', t: Date.now(), h: 'a', fields: { usage_idle: 95.5 } }));
  expect(written.status).toBe(204);
  expect((await shared.client.flush()).status).toBe(200);
});

/** The media type without its parameters (`text/css; charset=utf-8` is `text/css`). */
const mediaType = (contentType: string | null): string => (contentType ?? '').split(';')[0]?.trim() ?? '';

/** Why an answer does not match the description of `operation`, or null when it does. */
function mismatch(operation: ApiOperation, status: number, contentType: string | null, text: string): string | null {
  const success = operation.responses[status];
  const errorStatuses = new Set([...operation.errors, ...EVERY_ROUTE_ERRORS, ...(operation.access === 'public' ? [] : [401, 403])]);
  if (success === undefined && !errorStatuses.has(status)) return `status ${String(status)} is not documented`;
  if (success !== undefined && success.content === undefined) return text === '' ? null : 'a body where none is documented';
  const schema = success === undefined ? ([401, 403].includes(status) ? authErrorBodySchema : ERROR_SCHEMAS[operation.errorStyle ?? 'plain']) : success.content?.[mediaType(contentType)];
  if (schema === undefined) return `content type ${String(contentType)} is not documented for ${String(status)}`;
  if (schema === 'binary') return null;
  const body: unknown = mediaType(contentType) === 'application/json' ? JSON.parse(text) : text;
  const parsed = schema.safeParse(body);
  return parsed.success ? null : `body does not match: ${parsed.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`).join('; ')}`;
}

const READS = API_OPERATIONS.filter(({ method }) => method === 'get' || method === 'head').flatMap((operation) =>
  operation.paths
    .map((path) => ({ operation, route: `${operation.method.toUpperCase()} ${path}`, path: path.replace(/\{([^}]+)\}/g, (_, name: string) => PARAMETER_VALUES[name] ?? 'x') })),
);

describe('documented answers', () => {
  it('every GET and HEAD answers a documented status with a body of the documented shape', async () => {
    expect(READS.length).toBeGreaterThan(40);
    const wrong: string[] = [];
    const statuses = new Map<number, number>();
    for (const { operation, route, path } of READS) {
      const answer = await send(shared.arc.url, operation.method.toUpperCase(), path);
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      const why = mismatch(operation, answer.status, answer.headers.get('content-type'), answer.text);
      if (why !== null) wrong.push(`${route}: ${why} (${String(answer.status)} ${answer.text.slice(0, 160)})`);
    }
    expect(wrong).toEqual([]);
    // Most reads succeed here: a run where everything answered errors would prove little.
    expect(statuses.get(200) ?? 0).toBeGreaterThan(READS.length / 2);
  });

  it('the query operations answer valid and invalid bodies as documented', async () => {
    const cases: readonly [string, unknown, number][] = [
      ['querySql', { sql: 'SELECT * FROM cpu' }, 200],
      ['querySql', { sql: 'SELECT * FROM cpu', format: 'csv' }, 200],
      ['querySql', { sql: '' }, 400],
      ['querySql', { sql: 'SELECT 1', format: 'xml' }, 400],
      ['querySql', { sql: 'SELECT 1', limit: 0 }, 400],
      ['querySqlArrow', { sql: 'SELECT * FROM cpu' }, 200],
      ['querySqlMsgpack', { sql: 'SELECT * FROM cpu' }, 200],
      ['queryStream', { sql: 'SELECT * FROM cpu', format: 'ndjson' }, 200],
      ['queryStream', { sql: 'SELECT * FROM cpu', format: 'json' }, 400],
      ['queryEstimate', { sql: 'SELECT * FROM cpu' }, 200],
      ['queryEstimate', {}, 400],
      ['createDatabase', { name: 'openapi_db' }, 201],
      ['createDatabase', { name: 'openapi_db', extra: 1 }, 400],
      ['replayDeadLetters', { ids: [] }, 400],
    ];
    const wrong: string[] = [];
    for (const [id, body, expectedStatus] of cases) {
      const operation = API_OPERATIONS.find((candidate) => candidate.id === id);
      const path = operation?.paths[0];
      if (operation === undefined || path === undefined) throw new Error(`no operation ${id}`);
      const answer = await send(shared.arc.url, operation.method.toUpperCase(), path, { body });
      const why = answer.status === expectedStatus ? mismatch(operation, answer.status, answer.headers.get('content-type'), answer.text) : `expected ${String(expectedStatus)}`;
      if (why !== null) wrong.push(`${id} ${JSON.stringify(body)}: ${why} (${String(answer.status)} ${answer.text.slice(0, 160)})`);
    }
    expect(wrong).toEqual([]);
  });
});
