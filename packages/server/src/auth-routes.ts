import type { TemplatedApp } from 'uWebSockets.js';
import { isoOrNull, newTokenJson, parseExpiresIn, parseRfc3339Ms, parseTokenId, tokenJson, type TokenAccess, type TokenSummary } from '@arc/auth';
import { ArcError, ErrorKind, badRequest } from '@arc/errors';
import { z } from 'zod';
import { answer, parseBody, pathParameter, registerManagementRoutes, type ManagementAnswer, type ManagementCall, type ManagementRoute } from './management-route.js';
import type { ServerContext } from './server-context.js';
import { ServerErrorCode } from './error-codes.js';

/**
 * The token API (README, Authentication), admin only except `GET /auth/verify`:
 *   POST   /auth/tokens               create; answers the token text once (201)
 *   GET    /auth/tokens               list (never the text nor its hash)
 *   GET    /auth/tokens/:id           one token
 *   PATCH  /auth/tokens/:id           change name, description, permissions, databases, expiry, enabled
 *   DELETE /auth/tokens/:id           delete
 *   POST   /auth/tokens/:id/rotate    new text, shown once; the old text stops working
 *   POST   /auth/tokens/:id/revoke    disable
 *   GET    /auth/verify               the calling token's name, permissions and databases
 * Each also under /api/v1. Every change that can take rights away invalidates this node's cache
 * of verified tokens, so it applies from the next request on; with an object store, changes go
 * through the table all nodes share (token-sync.ts), and other nodes apply them at their next read.
 */

/** zod messages are completed to "Invalid request body: field '<name>' <message>". */
function expected(what: string): (issue: { input?: unknown }) => string {
  return (issue) => (issue.input === undefined ? 'is required' : `must be ${what}`);
}

const nameField = z.string({ error: expected('a string') });
const descriptionField = z.string({ error: expected('a string') });
const permissionsField = z.array(z.string({ error: expected('a string') }), { error: expected('an array of permission names') });
const databasesField = z.array(z.string({ error: expected('a string') }), { error: expected('an array of database names or null') }).nullable();
const expiresAtField = z.string({ error: expected('an RFC 3339 time or null') }).nullable();
const expiresInField = z.string({ error: expected("a duration such as '24h' or '30d'") });

export const createTokenSchema = z.strictObject({
  name: nameField,
  description: descriptionField.optional(),
  permissions: permissionsField,
  databases: databasesField.optional(),
  expires_at: expiresAtField.optional(),
  expires_in: expiresInField.optional(),
});

const PATCHABLE_FIELDS = ['name', 'description', 'permissions', 'databases', 'expires_at', 'expires_in', 'enabled'] as const;
export const patchTokenSchema = z
  .strictObject({
    name: nameField.optional(),
    description: descriptionField.optional(),
    permissions: permissionsField.optional(),
    databases: databasesField.optional(),
    expires_at: expiresAtField.optional(),
    expires_in: expiresInField.optional(),
    enabled: z.boolean({ error: expected('true or false') }).optional(),
  })
  .refine((patch) => Object.keys(patch).length > 0, { error: `give at least one of ${PATCHABLE_FIELDS.join(', ')}` });

/**
 * The expiry a body asks for, in milliseconds: `expires_at` (RFC 3339; null means never) or
 * `expires_in` (a duration from now such as '24h' or '30d', as Arc's Python SDK sends it), not both.
 * Absent stays absent.
 */
function expiryMs(body: { expires_at?: string | null | undefined; expires_in?: string | undefined }): number | null | undefined | ArcError {
  if (body.expires_in !== undefined) {
    if (body.expires_at !== undefined) {
      return badRequest(ServerErrorCode.badRequestBody, "Invalid request body: give one of 'expires_at' and 'expires_in', not both", { field: 'expires_in' });
    }
    const duration = parseExpiresIn(body.expires_in);
    if (duration === null) {
      return badRequest(ServerErrorCode.badRequestBody, `Invalid request body: field 'expires_in' must be a positive duration such as '24h', '90m' or '30d', not '${body.expires_in}'`, {
        field: 'expires_in',
      });
    }
    return Date.now() + duration;
  }
  const text = body.expires_at;
  if (text === undefined || text === null) return text;
  const ms = parseRfc3339Ms(text);
  if (ms === null) {
    return badRequest(ServerErrorCode.badRequestBody, `Invalid request body: field 'expires_at' must be an RFC 3339 time such as 2030-01-31T00:00:00Z, not '${text}'`, {
      field: 'expires_at',
    });
  }
  return ms;
}

const authDisabled = (): ArcError =>
  new ArcError(ErrorKind.notFound, ServerErrorCode.authDisabled, 'Token management is unavailable: authentication is disabled (auth.enabled = false)');
const tokenNotFound = (id: number): ArcError => new ArcError(ErrorKind.notFound, ServerErrorCode.tokenNotFound, `Token ${id} not found`, { id: String(id) });

/** The `:id` of the path as a token id, or a 400 naming it: ids are positive integers. */
function tokenId(call: ManagementCall): number | ArcError {
  const text = pathParameter(call, 0);
  const id = parseTokenId(text);
  return id ?? badRequest(ServerErrorCode.badTokenId, `Invalid token id '${text}': token ids are positive integers`, { id: text });
}

/**
 * Every answer of the token API carries `success: true` and a `message`, as Arc's other servers
 * answer and as Arc's Python SDK checks (`success`, `token`, `new_token`, `tokens`).
 */
function succeeded(status: '200 OK' | '201 Created', message: string, body: Record<string, unknown>): ManagementAnswer {
  return answer(status, { success: true, message, ...body });
}

async function createToken(tokens: TokenAccess, call: ManagementCall): Promise<ManagementAnswer | ArcError> {
  const input = parseBody(createTokenSchema, call.body);
  if (input instanceof ArcError) return input;
  const expiresAt = expiryMs(input);
  if (expiresAt instanceof ArcError) return expiresAt;
  // Hashed off the main thread: one scrypt run takes 80-250 ms here, and this thread accepts every write.
  const prepared = await tokens.store.prepareCreate({
    name: input.name,
    permissions: input.permissions,
    ...(input.description === undefined ? {} : { description: input.description }),
    ...(input.databases === undefined || input.databases === null ? {} : { databases: input.databases }),
    ...(expiresAt === undefined || expiresAt === null ? {} : { expiresAt }),
  });
  const created = await tokens.change((store) => store.insertPrepared(prepared));
  return succeeded('201 Created', 'Token created; store it now, it is not shown again', newTokenJson(created.info, created.token));
}

/** The token as this node's table has it after a change (with the last use this node recorded). */
function current(tokens: TokenAccess, changed: TokenSummary): TokenSummary {
  return tokens.store.get(changed.id) ?? changed;
}

async function patchToken(context: ServerContext, tokens: TokenAccess, call: ManagementCall): Promise<ManagementAnswer | ArcError> {
  const patch = parseBody(patchTokenSchema, call.body);
  if (patch instanceof ArcError) return patch;
  const expiresAt = expiryMs(patch);
  if (expiresAt instanceof ArcError) return expiresAt;
  const id = tokenId(call);
  if (id instanceof ArcError) return id;
  const updated = await tokens.change((store) => store.update(id, {
    ...(patch.name === undefined ? {} : { name: patch.name }),
    ...(patch.description === undefined ? {} : { description: patch.description }),
    ...(patch.permissions === undefined ? {} : { permissions: patch.permissions }),
    ...(patch.databases === undefined ? {} : { databases: patch.databases }),
    ...(expiresAt === undefined ? {} : { expiresAt }),
    ...(patch.enabled === undefined ? {} : { enabled: patch.enabled }),
  }));
  if (updated === null) return tokenNotFound(id);
  context.auth.invalidate();
  return succeeded('200 OK', 'Token updated', { token: tokenJson(current(tokens, updated)) });
}

type TokenHandler = (tokens: TokenAccess, call: ManagementCall) => Promise<ManagementAnswer | ArcError> | ManagementAnswer | ArcError;

/** A handler of `/auth/tokens/:id/...` given the parsed id; a malformed id answers 400 first. */
function withTokenId(handle: (tokens: TokenAccess, id: number) => Promise<ManagementAnswer | ArcError> | ManagementAnswer | ArcError): TokenHandler {
  return (tokens, call) => {
    const id = tokenId(call);
    return id instanceof ArcError ? id : handle(tokens, id);
  };
}

function tokenRoutes(context: ServerContext): ManagementRoute[] {
  /** Runs `handle` with the token table, or answers 404 when authentication is off (no table). */
  const withStore =
    (handle: TokenHandler) =>
    (call: ManagementCall): Promise<ManagementAnswer | ArcError> | ManagementAnswer | ArcError =>
      context.tokens === null ? authDisabled() : handle(context.tokens, call);
  return [
    { method: 'post', path: '/auth/tokens', permission: 'admin', readsBody: true, handle: withStore(createToken) },
    {
      method: 'get',
      path: '/auth/tokens',
      permission: 'admin',
      readsBody: false,
      handle: withStore(({ store }) => {
        const tokens = store.list().map(tokenJson);
        return succeeded('200 OK', `${tokens.length} tokens`, { tokens, count: tokens.length });
      }),
    },
    {
      method: 'get',
      path: '/auth/tokens/:id',
      permission: 'admin',
      readsBody: false,
      handle: withStore(withTokenId(({ store }, id) => {
        const token = store.get(id);
        return token === null ? tokenNotFound(id) : succeeded('200 OK', 'Token found', { token: tokenJson(token) });
      })),
    },
    { method: 'patch', path: '/auth/tokens/:id', permission: 'admin', readsBody: true, handle: withStore((tokens, call) => patchToken(context, tokens, call)) },
    {
      method: 'del',
      path: '/auth/tokens/:id',
      permission: 'admin',
      readsBody: false,
      handle: withStore(withTokenId(async (tokens, id) => {
        if (!(await tokens.change((store) => store.delete(id)))) return tokenNotFound(id);
        context.auth.invalidate();
        return succeeded('200 OK', 'Token deleted', { id, deleted: true });
      })),
    },
    {
      method: 'post',
      path: '/auth/tokens/:id/rotate',
      permission: 'admin',
      readsBody: false,
      handle: withStore(withTokenId(async (tokens, id) => {
        // Hashed before the id is looked up: this node's copy may not hold a token just created on another node.
        const secret = await tokens.store.prepareRotation();
        const rotated = await tokens.change((store) => store.applyRotation(id, secret));
        if (rotated === null) return tokenNotFound(id);
        context.auth.invalidate();
        return succeeded('200 OK', 'Token rotated; store the new text now, it is not shown again', { new_token: rotated.token, ...newTokenJson(rotated.info, rotated.token) });
      })),
    },
    {
      method: 'post',
      path: '/auth/tokens/:id/revoke',
      permission: 'admin',
      readsBody: false,
      handle: withStore(withTokenId(async (tokens, id) => {
        const revoked = await tokens.change((store) => store.update(id, { enabled: false }));
        if (revoked === null) return tokenNotFound(id);
        context.auth.invalidate();
        return succeeded('200 OK', 'Token revoked', { token: tokenJson(current(tokens, revoked)) });
      })),
    },
    {
      method: 'get',
      path: '/auth/verify',
      permission: null,
      readsBody: false,
      handle: ({ identity }) => {
        const expiresAt = isoOrNull(identity.expiresAt);
        // `token_info` is what Arc's Python SDK reads (TokenInfo: integer id, name, permissions...);
        // the same fields stay at the top level, as earlier answers had them.
        const tokenInfo = { id: identity.id, name: identity.name, permissions: identity.permissions, databases: identity.databases, expires_at: expiresAt, enabled: true };
        return answer('200 OK', { valid: true, token_info: tokenInfo, ...tokenInfo });
      },
    },
  ];
}

export function registerAuthRoutes(app: TemplatedApp, context: ServerContext): void {
  registerManagementRoutes(app, context, tokenRoutes(context), '/api/v1');
}
