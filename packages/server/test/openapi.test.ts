// The API description covers exactly the routes the server registers (taken from the route table
// on a fake app), passes an OpenAPI 3.1 linter, and carries the same zod schemas the management
// routes validate with; proven on the document openApiDocument() builds.
import { createConfig, lintFromString } from '@redocly/openapi-core';
import type { TemplatedApp } from 'uWebSockets.js';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createTokenSchema } from '../src/auth-routes.js';
import { API_OPERATIONS, openApiDocument } from '../src/openapi/document.js';
import { UWS_METHOD_BY_API_METHOD, uwsPattern } from '../src/openapi/api-operation.js';
import type { QueryCache } from '../src/query-cache.js';
import { RouteTable } from '../src/route-table.js';
import { registerRoutes } from '../src/routes.js';
import type { ServerContext } from '../src/server-context.js';

/** The catch-all 404 answers every unknown path: it is not an operation. */
const UNDOCUMENTED = new Set(['any /*']);

function registeredRoutes(): string[] {
  const app: Record<string, unknown> = {};
  for (const method of ['get', 'post', 'put', 'del', 'patch', 'options', 'head', 'any']) app[method] = () => app;
  const table = new RouteTable();
  registerRoutes(table.recording(app as unknown as TemplatedApp), { version: '0.0.0-test' } as ServerContext, null as unknown as QueryCache);
  return table.routes.map(({ method, pattern }) => `${method} ${pattern}`);
}

function documentedRoutes(): string[] {
  return API_OPERATIONS.flatMap((operation) => operation.paths.map((path) => `${UWS_METHOD_BY_API_METHOD[operation.method]} ${uwsPattern(path)}`));
}

interface OperationObject {
  operationId: string;
  security: unknown[];
  responses: Record<string, unknown>;
  requestBody?: { content: Record<string, { schema: unknown }> };
  parameters: { name: string; in: string }[];
}

function operations(document: Record<string, unknown>): [string, string, OperationObject][] {
  const paths = document.paths as Record<string, Record<string, OperationObject>>;
  return Object.entries(paths).flatMap(([path, item]) => Object.entries(item).map(([method, operation]): [string, string, OperationObject] => [path, method, operation]));
}

describe('the API description', () => {
  it('documents every registered route (the catch-all aside)', () => {
    const documented = new Set(documentedRoutes());
    const missing = registeredRoutes().filter((route) => !UNDOCUMENTED.has(route) && !documented.has(route));
    expect(missing).toEqual([]);
  });

  it('documents no route that is not registered', () => {
    const registered = new Set(registeredRoutes());
    const extra = documentedRoutes().filter((route) => !registered.has(route));
    expect(extra).toEqual([]);
  });

  it('documents each (method, path) once', () => {
    const routes = documentedRoutes();
    expect(new Set(routes).size).toBe(routes.length);
  });

  it('is valid OpenAPI 3.1 for a linter, with unique operation ids', async () => {
    const document = openApiDocument('1.2.3');
    expect(document.openapi).toBe('3.1.0');
    const config = await createConfig({ extends: ['recommended-strict'] });
    const problems = await lintFromString({ source: JSON.stringify(document), absoluteRef: '/openapi.json', config });
    expect(problems.map((problem) => `${problem.ruleId}: ${problem.message} at ${problem.location[0]?.pointer ?? '?'}`)).toEqual([]);
    const ids = operations(document).map(([, , operation]) => operation.operationId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('names the token schemes auth-gate accepts, and marks public routes as public', () => {
    const document = openApiDocument('1.2.3');
    const schemes = (document.components as { securitySchemes: Record<string, { type: string; scheme?: string; in?: string; name?: string }> }).securitySchemes;
    expect(Object.values(schemes).map(({ type, scheme, in: where, name }) => [type, scheme ?? where, name ?? null])).toEqual([
      ['http', 'bearer', null],
      ['apiKey', 'header', 'Authorization'],
      ['http', 'basic', null],
      ['apiKey', 'header', 'x-api-key'],
      ['apiKey', 'query', 'p'],
    ]);
    const byRoute = new Map(operations(document).map(([path, method, operation]) => [`${method} ${path}`, operation]));
    for (const route of ['get /health', 'get /ready', 'get /ping', 'get /openapi.json', 'get /docs', 'get /redoc']) {
      expect(byRoute.get(route)?.security, route).toEqual([]);
      expect(byRoute.get(route)?.responses['401'], route).toBeUndefined();
    }
    const flush = byRoute.get('post /write/flush');
    expect(flush?.security.length).toBe(5);
    expect(Object.keys(flush?.responses ?? {})).toEqual(expect.arrayContaining(['200', '401', '403', '503']));
  });

  it('describes a management body with the schema the route validates with', () => {
    const document = openApiDocument('1.2.3');
    const create = operations(document).find(([, , operation]) => operation.operationId === 'createToken')?.[2];
    const expected: Record<string, unknown> = z.toJSONSchema(createTokenSchema, { io: 'input' });
    delete expected.$schema;
    expect(create?.requestBody?.content['application/json']?.schema).toEqual(expected);
    expect(expected).toMatchObject({ required: ['name', 'permissions'], additionalProperties: false });
  });

  it('describes aliases as the same operation at another path', () => {
    const document = openApiDocument('1.2.3');
    const paths = document.paths as Record<string, Record<string, OperationObject & { description: string }>>;
    expect(paths['/api/v1/query']?.post?.operationId).toBe('querySqlAtApiV1Query');
    expect(paths['/api/v1/query']?.post?.description).toContain('Alias of `POST /query`');
    expect(paths['/api/v1/query/{measurement}/csv']?.get?.parameters.map(({ name, in: where }) => `${where} ${name}`)).toContain('path measurement');
  });
});
