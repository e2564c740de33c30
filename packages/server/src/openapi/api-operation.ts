import type { Permission } from '@arc/auth';
import type { z } from 'zod';

/**
 * Who may call an operation: `public` needs no token (health, ping, the API description itself),
 * `token` any valid token whatever its permissions (GET /auth/verify), else the permission the
 * token must hold (auth-gate.ts; `admin` implies the others, no other implies another).
 */
export type Access = 'public' | 'token' | Permission;

/** The methods the API uses, as OpenAPI spells them (uWS's `del` is `delete`). */
export type ApiMethod = 'get' | 'post' | 'put' | 'patch' | 'delete' | 'head';

/** A response of an operation: its description and, when it has a body, the body's media type and schema. */
export interface ApiResponse {
  readonly description: string;
  /** Media type -> schema of the body (a zod schema, or `binary` for bytes the schema cannot describe). */
  readonly content?: Readonly<Record<string, z.ZodType | 'binary'>>;
  /** Response headers worth naming (e.g. `Retry-After`, `x-arc-cache`). */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * Which error body an operation answers with (http-response.ts errorBody): `plain`
 * `{error, code, ...}`, `query` the same with `success: false`, `influxV2` the same with `message`.
 * 401 and 403 are always `{error}` alone.
 */
export type ErrorStyle = 'plain' | 'query' | 'influxV2';

/**
 * One operation of the HTTP API, at one or more paths (the first is the one the README names, the
 * others its aliases, registered with the same handler). Paths use OpenAPI's `{name}` for a path
 * parameter where uWS's pattern has `:name`.
 */
export interface ApiOperation {
  readonly method: ApiMethod;
  readonly paths: readonly string[];
  /** operationId of the first path; each alias gets this with its path appended. */
  readonly id: string;
  readonly tag: string;
  readonly summary: string;
  readonly description?: string;
  readonly access: Access;
  /** Query-string parameters: each key of the object is one parameter. */
  readonly query?: z.ZodObject;
  /** Path parameters by name (a parameter without an entry is a plain string). */
  readonly pathParameters?: Readonly<Record<string, z.ZodType>>;
  /** Request headers that change what the operation does (not the token headers: see `access`). */
  readonly headers?: z.ZodObject;
  readonly body?: {
    readonly required: boolean;
    readonly description?: string;
    /** Media type -> schema (`binary` for a payload format that JSON Schema cannot describe). */
    readonly content: Readonly<Record<string, z.ZodType | 'binary'>>;
  };
  /** Success responses by status. */
  readonly responses: Readonly<Record<number, ApiResponse>>;
  /** Statuses the error body can come with, besides the 401/403 of `access` and the 413/431 of every request. */
  readonly errors: readonly number[];
  readonly errorStyle?: ErrorStyle;
}

/** uWS's method names (route-table.ts) for an operation's method. */
export const UWS_METHOD_BY_API_METHOD: Readonly<Record<ApiMethod, string>> = {
  get: 'get',
  post: 'post',
  put: 'put',
  patch: 'patch',
  delete: 'del',
  head: 'head',
};

/** `/auth/tokens/{id}` -> `/auth/tokens/:id`: the uWS pattern of an OpenAPI path. */
export function uwsPattern(path: string): string {
  return path.replace(/\{([^}]+)\}/g, ':$1');
}

/** The names of an OpenAPI path's parameters, in order. */
export function pathParameterNames(path: string): string[] {
  return [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1] ?? '');
}
