import assert from 'node:assert/strict';
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import type { Permission, TokenInfo } from '@arc/auth';
import { ArcError, ErrorKind, badRequest } from '@arc/errors';
import type { z } from 'zod';
import { newResponseState, sendError, sendJson } from './http-response.js';
import { readBody } from './request-body.js';
import { readRequestInfo, type RequestInfo } from './request-info.js';
import type { ServerContext } from './server-context.js';
import { ServerErrorCode } from './error-codes.js';

/**
 * Management bodies are small JSON objects (a token, a database name); 64 KiB is far above any
 * valid one and small enough that nobody can make the acceptor buffer much.
 */
export const MANAGEMENT_BODY_BYTES_MAX = 64 * 1024;

/** What a management handler sees: who asked, the path parameters and the JSON body (if read). */
export interface ManagementCall {
  readonly request: RequestInfo;
  /** The request's id (X-Request-Id), for the log lines about it. */
  readonly requestId: string;
  readonly identity: TokenInfo;
  readonly parameters: readonly string[];
  readonly body: unknown;
}

/** Path parameter `index` of the call (`:name` in the route's pattern, in order). */
export function pathParameter(call: ManagementCall, index: number): string {
  const value = call.parameters[index];
  assert.ok(value !== undefined, 'the route pattern has this parameter');
  return value;
}

export interface ManagementAnswer {
  readonly status: string;
  readonly body: unknown;
}

export type ManagementMethod = 'get' | 'post' | 'put' | 'patch' | 'del';

/**
 * A management endpoint. `permission` null means any valid token. The token is checked before
 * the body is read, so a request without a valid token gets its 401/403 whatever its body.
 */
export interface ManagementRoute {
  readonly method: ManagementMethod;
  readonly path: string;
  readonly permission: Permission | null;
  readonly readsBody: boolean;
  /** An empty body reads as `{}` (every field of the body is optional); else it is refused. */
  readonly emptyBodyAllowed?: boolean;
  handle(call: ManagementCall): Promise<ManagementAnswer | ArcError> | ManagementAnswer | ArcError;
}

export function answer(status: string, body: unknown): ManagementAnswer {
  return { status, body };
}

function parseJsonBody(body: Uint8Array, emptyAllowed: boolean): unknown {
  const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  if (text.trim() === '' && emptyAllowed) return {};
  if (text.trim() === '') return badRequest(ServerErrorCode.badJson, 'Request body must be a JSON object');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    return badRequest(ServerErrorCode.badJson, `Request body is not valid JSON: ${(error as Error).message}`);
  }
}

function fieldName(pathParts: readonly PropertyKey[]): string {
  return pathParts.map((part, index) => (typeof part === 'number' ? `[${part}]` : `${index === 0 ? '' : '.'}${String(part)}`)).join('');
}

/**
 * Validates a JSON body against a zod schema whose messages read "must be ..." / "is required";
 * the 400 names the first bad field: `{"error": "Invalid request body: field 'x' must be ...",
 * "code": "ARC_BAD_REQUEST_BODY", "field": "x"}`.
 */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown): T | ArcError {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return badRequest(ServerErrorCode.badJson, 'Request body must be a JSON object');
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  if (issue === undefined) return badRequest(ServerErrorCode.badRequestBody, 'Invalid request body');
  // zod lists the unknown keys; should the list be empty, the generic message below still names the issue.
  const unknownKey = issue.code === 'unrecognized_keys' ? issue.keys[0] : undefined;
  if (unknownKey !== undefined) return badRequest(ServerErrorCode.badRequestBody, `Invalid request body: unknown field '${unknownKey}'`, { field: unknownKey });
  const field = fieldName(issue.path);
  if (field === '') return badRequest(ServerErrorCode.badRequestBody, `Invalid request body: ${issue.message}`);
  return badRequest(ServerErrorCode.badRequestBody, `Invalid request body: field '${field}' ${issue.message}`, { field });
}

function internalError(error: unknown): ArcError {
  if (error instanceof ArcError) return error;
  return new ArcError(ErrorKind.internal, ServerErrorCode.internal, `Internal error: ${(error as Error).message}`);
}

async function run(context: ServerContext, route: ManagementRoute, call: ManagementCall): Promise<ManagementAnswer | ArcError> {
  try {
    return await route.handle(call);
  } catch (error) {
    const arcError = internalError(error);
    if (arcError.kind === ErrorKind.internal) context.log.error(`${route.method.toUpperCase()} ${route.path} failed: ${arcError.message}`, { request_id: call.requestId });
    return arcError;
  }
}

/** uWS gives path parameters still percent-encoded; a malformed escape stays as sent. */
function decodeParameter(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

function handle(context: ServerContext, route: ManagementRoute, parameterCount: number, res: HttpResponse, req: HttpRequest): void {
  const request = readRequestInfo(req);
  const parameters = Array.from({ length: parameterCount }, (_, index) => decodeParameter(req.getParameter(index)));
  const state = newResponseState(res);
  const authorized = route.permission === null ? context.auth.identify(request) : context.auth.check(request, route.permission, null);
  const finish = (body: unknown): void => {
    void authorized.then(async (identity) => {
      if (identity instanceof ArcError) return sendError(res, state, identity);
      if (body instanceof ArcError) return sendError(res, state, body);
      const result = await run(context, route, { request, requestId: state.requestId, identity, parameters, body });
      if (result instanceof ArcError) return sendError(res, state, result);
      sendJson(res, state, result.status, result.body);
    });
  };
  if (!route.readsBody) return finish(undefined);
  readBody(res, request, MANAGEMENT_BODY_BYTES_MAX, (body) => finish(body instanceof ArcError ? body : parseJsonBody(body, route.emptyBodyAllowed === true)));
}

/** Registers each route at its path and, when `aliasPrefix` is given, also under that prefix. */
export function registerManagementRoutes(app: TemplatedApp, context: ServerContext, routes: readonly ManagementRoute[], aliasPrefix?: string): void {
  for (const route of routes) {
    const parameterCount = route.path.split('/').filter((part) => part.startsWith(':')).length;
    const paths = aliasPrefix === undefined ? [route.path] : [route.path, `${aliasPrefix}${route.path}`];
    for (const path of paths) app[route.method](path, (res, req) => handle(context, route, parameterCount, res, req));
  }
}
