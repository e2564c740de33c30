import type { TemplatedApp } from 'uWebSockets.js';
import { isoOrNull, newTokenJson, parseRfc3339Ms, tokenJson, type TokenStore } from '@arc/auth';
import { ArcError, ErrorKind, badRequest } from '@arc/errors';
import { z } from 'zod';
import { answer, parseBody, registerManagementRoutes, type ManagementAnswer, type ManagementCall, type ManagementRoute } from './management-route.js';
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
 * of verified tokens, so it applies from the next request on.
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

const createTokenSchema = z.strictObject({
  name: nameField,
  description: descriptionField.optional(),
  permissions: permissionsField,
  databases: databasesField.optional(),
  expires_at: expiresAtField.optional(),
});

const PATCHABLE_FIELDS = ['name', 'description', 'permissions', 'databases', 'expires_at', 'enabled'] as const;
const patchTokenSchema = z
  .strictObject({
    name: nameField.optional(),
    description: descriptionField.optional(),
    permissions: permissionsField.optional(),
    databases: databasesField.optional(),
    expires_at: expiresAtField.optional(),
    enabled: z.boolean({ error: expected('true or false') }).optional(),
  })
  .refine((patch) => Object.keys(patch).length > 0, { error: `give at least one of ${PATCHABLE_FIELDS.join(', ')}` });

/** `expires_at` as milliseconds: absent stays absent, null means never. */
function expiryMs(text: string | null | undefined): number | null | undefined | ArcError {
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
const tokenNotFound = (id: string): ArcError => new ArcError(ErrorKind.notFound, ServerErrorCode.tokenNotFound, `Token '${id}' not found`, { id });

function tokenId(call: ManagementCall): string {
  return call.parameters[0] ?? '';
}

async function createToken(store: TokenStore, call: ManagementCall): Promise<ManagementAnswer | ArcError> {
  const input = parseBody(createTokenSchema, call.body);
  if (input instanceof ArcError) return input;
  const expiresAt = expiryMs(input.expires_at);
  if (expiresAt instanceof ArcError) return expiresAt;
  // Hashed off the main thread: one scrypt run takes 80-250 ms here, and this thread accepts every write.
  const created = await store.createAsync({
    name: input.name,
    permissions: input.permissions,
    ...(input.description === undefined ? {} : { description: input.description }),
    ...(input.databases === undefined || input.databases === null ? {} : { databases: input.databases }),
    ...(expiresAt === undefined || expiresAt === null ? {} : { expiresAt }),
  });
  return answer('201 Created', newTokenJson(created.info, created.token));
}

function patchToken(context: ServerContext, store: TokenStore, call: ManagementCall): ManagementAnswer | ArcError {
  const patch = parseBody(patchTokenSchema, call.body);
  if (patch instanceof ArcError) return patch;
  const expiresAt = expiryMs(patch.expires_at);
  if (expiresAt instanceof ArcError) return expiresAt;
  const updated = store.update(tokenId(call), {
    ...(patch.name === undefined ? {} : { name: patch.name }),
    ...(patch.description === undefined ? {} : { description: patch.description }),
    ...(patch.permissions === undefined ? {} : { permissions: patch.permissions }),
    ...(patch.databases === undefined ? {} : { databases: patch.databases }),
    ...(expiresAt === undefined ? {} : { expiresAt }),
    ...(patch.enabled === undefined ? {} : { enabled: patch.enabled }),
  });
  if (updated === null) return tokenNotFound(tokenId(call));
  context.auth.invalidate();
  return answer('200 OK', tokenJson(updated));
}

function tokenRoutes(context: ServerContext): ManagementRoute[] {
  /** Runs `handle` with the token store, or answers 404 when authentication is off (no store). */
  const withStore =
    (handle: (store: TokenStore, call: ManagementCall) => Promise<ManagementAnswer | ArcError> | ManagementAnswer | ArcError) =>
    (call: ManagementCall): Promise<ManagementAnswer | ArcError> | ManagementAnswer | ArcError =>
      context.tokens === null ? authDisabled() : handle(context.tokens, call);
  return [
    { method: 'post', path: '/auth/tokens', permission: 'admin', readsBody: true, handle: withStore(createToken) },
    {
      method: 'get',
      path: '/auth/tokens',
      permission: 'admin',
      readsBody: false,
      handle: withStore((store) => {
        const tokens = store.list().map(tokenJson);
        return answer('200 OK', { tokens, count: tokens.length });
      }),
    },
    {
      method: 'get',
      path: '/auth/tokens/:id',
      permission: 'admin',
      readsBody: false,
      handle: withStore((store, call) => {
        const token = store.get(tokenId(call));
        return token === null ? tokenNotFound(tokenId(call)) : answer('200 OK', tokenJson(token));
      }),
    },
    { method: 'patch', path: '/auth/tokens/:id', permission: 'admin', readsBody: true, handle: withStore((store, call) => patchToken(context, store, call)) },
    {
      method: 'del',
      path: '/auth/tokens/:id',
      permission: 'admin',
      readsBody: false,
      handle: withStore((store, call) => {
        if (!store.delete(tokenId(call))) return tokenNotFound(tokenId(call));
        context.auth.invalidate();
        return answer('200 OK', { id: tokenId(call), deleted: true });
      }),
    },
    {
      method: 'post',
      path: '/auth/tokens/:id/rotate',
      permission: 'admin',
      readsBody: false,
      handle: withStore(async (store, call) => {
        const rotated = await store.rotateAsync(tokenId(call));
        if (rotated === null) return tokenNotFound(tokenId(call));
        context.auth.invalidate();
        return answer('200 OK', newTokenJson(rotated.info, rotated.token));
      }),
    },
    {
      method: 'post',
      path: '/auth/tokens/:id/revoke',
      permission: 'admin',
      readsBody: false,
      handle: withStore((store, call) => {
        const revoked = store.update(tokenId(call), { enabled: false });
        if (revoked === null) return tokenNotFound(tokenId(call));
        context.auth.invalidate();
        return answer('200 OK', tokenJson(revoked));
      }),
    },
    {
      method: 'get',
      path: '/auth/verify',
      permission: null,
      readsBody: false,
      handle: ({ identity }) =>
        answer('200 OK', { valid: true, id: identity.id, name: identity.name, permissions: identity.permissions, databases: identity.databases, expires_at: isoOrNull(identity.expiresAt) }),
    },
  ];
}

export function registerAuthRoutes(app: TemplatedApp, context: ServerContext): void {
  registerManagementRoutes(app, context, tokenRoutes(context), '/api/v1');
}
