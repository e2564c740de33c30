import { LocalTokenAccess, PERMISSIONS, TokenStore, isPermission, isoOrNull, newTokenJson, parseRfc3339Ms, tokenJson, type TokenAccess } from '@arc/auth';
import type { NewToken, Permission, TokenInfo, TokenSummary } from '@arc/auth';
import { ConfigError, loadConfig } from '@arc/config';
import { isArcError } from '@arc/errors';
import type { Config } from '@arc/config';
import { CommandUsageError, formatTable, parseCommandArgs, wantsHelp } from './command-text.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, exitCodesText } from './exit-codes.js';

export const TOKEN_USAGE = `Usage: arc token <subcommand> [options]

Subcommands:
  create --name <name> --permissions <read,write,delete,admin>
         [--databases <db,db>] [--description <text>] [--expires-at <RFC 3339 time>] [--json]
                            create a token; its text is printed once and never again
  list [--json]             list tokens (never their text or hash)
  revoke <id|name> [--json] disable a token
  rotate <id|name> [--json] replace a token's text; prints the new text once, the old one stops working
  delete <id|name> [--json] delete a token

--json prints the token API's shapes: the token (create, rotate: with its text; revoke: disabled),
the list, or {"id": ..., "deleted": true}.

Every subcommand takes --config <arc.conf> and -h/--help. Tokens live in <data_dir>/arc.db
(ARC_DATA_DIR), which is safe to change while the server runs. A running server caches verified tokens for
auth.cache_ttl_seconds (30 s by default), so revoke, rotate and delete take effect within that time.
With an object store (storage.backend s3, minio, gcs) the nodes share one token table in the
bucket: changes are written there and reach every node within storage.listing_refresh_s.

${exitCodesText('success', "the store refused (unknown token, a name taken, an invalid name) or a configuration error", '   (a bad option value, such as a permission or a time, is a usage error)')}`;

/**
 * What went wrong, naming the option, value or token at fault. `usage`: a malformed command (the
 * message points at the usage text); `value`: a bad option value; both exit 2. `refused`: the
 * command line was right but the store says no (an unknown token): exit 1.
 */
export type TokenErrorKind = 'usage' | 'value' | 'refused';

export class TokenCommandError extends Error {
  override readonly name = 'TokenCommandError';
  readonly kind: TokenErrorKind;

  constructor(message: string, kind: TokenErrorKind = 'usage') {
    super(message);
    this.kind = kind;
  }
}

/** Where a subcommand writes; main passes process.stdout and process.stderr. */
export interface CommandOutput {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

const OPTIONS = {
  config: { type: 'string' },
  json: { type: 'boolean' },
  name: { type: 'string' },
  permissions: { type: 'string' },
  databases: { type: 'string' },
  description: { type: 'string' },
  'expires-at': { type: 'string' },
} as const;

/** Options each subcommand accepts (besides --config); anything else is refused, not ignored. */
const SUBCOMMAND_OPTIONS = {
  create: ['name', 'permissions', 'databases', 'description', 'expires-at', 'json'],
  list: ['json'],
  revoke: ['json'],
  rotate: ['json'],
  delete: ['json'],
} as const satisfies Record<string, readonly (keyof typeof OPTIONS)[]>;
type Subcommand = keyof typeof SUBCOMMAND_OPTIONS;

interface ParsedArgs {
  readonly values: Partial<Record<keyof typeof OPTIONS, string | boolean>>;
  readonly positionals: readonly string[];
}

function isSubcommand(text: string): text is Subcommand {
  return Object.hasOwn(SUBCOMMAND_OPTIONS, text);
}

function parseSubcommandArgs(subcommand: Subcommand, args: readonly string[]): ParsedArgs {
  const parsed: ParsedArgs = parseCommandArgs({ args: [...args], options: OPTIONS, allowPositionals: true, strict: true });
  const allowed: readonly string[] = ['config', ...SUBCOMMAND_OPTIONS[subcommand]];
  const stray = Object.keys(parsed.values).find((key) => !allowed.includes(key));
  if (stray !== undefined) throw new TokenCommandError(`option '--${stray}' is not accepted by 'token ${subcommand}'`);
  return parsed;
}

function stringOption(parsed: ParsedArgs, key: keyof typeof OPTIONS): string | undefined {
  const value = parsed.values[key];
  return typeof value === 'string' ? value : undefined;
}

function requiredOption(parsed: ParsedArgs, key: keyof typeof OPTIONS): string {
  const value = stringOption(parsed, key);
  if (value === undefined) throw new TokenCommandError(`option '--${key}' is required`);
  return value;
}

function commaList(text: string, option: string): string[] {
  const items = text.split(',').map((item) => item.trim());
  if (items.some((item) => item === '')) throw new TokenCommandError(`option '--${option}' has an empty item in '${text}'`, 'value');
  return items;
}

function parsePermissions(text: string): Permission[] {
  const items = commaList(text, 'permissions');
  const bad = items.find((item) => !isPermission(item));
  if (bad !== undefined) throw new TokenCommandError(`unknown permission '${bad}': must be one of ${PERMISSIONS.join(', ')}`, 'value');
  return items.filter(isPermission);
}

function parseExpiry(text: string, nowMs: number): number {
  const ms = parseRfc3339Ms(text);
  if (ms === null) throw new TokenCommandError(`option '--expires-at' must be an RFC 3339 time such as 2030-01-31T00:00:00Z, not '${text}'`, 'value');
  if (ms <= nowMs) throw new TokenCommandError(`option '--expires-at' is in the past: '${text}'`, 'value');
  return ms;
}

function onePositional(subcommand: Subcommand, parsed: ParsedArgs): string {
  const [token, extra] = parsed.positionals;
  if (token === undefined) throw new TokenCommandError(`'token ${subcommand}' needs a token id or name`);
  if (extra !== undefined) throw new TokenCommandError(`'token ${subcommand}' takes one token, not also '${extra}'`);
  return token;
}

/** Accepts a token's id or its name; the store addresses tokens by id. */
function resolveToken(store: TokenStore, idOrName: string): TokenSummary {
  const token = store.find(idOrName);
  if (token === null) throw new TokenCommandError(`unknown token '${idOrName}': no token has this id or name`, 'refused');
  return token;
}

function infoText(info: TokenInfo): string {
  return [
    `id:          ${info.id}`,
    `name:        ${info.name}`,
    `permissions: ${info.permissions.join(',')}`,
    `databases:   ${info.databases === null ? 'all' : info.databases.join(',')}`,
    `expires:     ${isoOrNull(info.expiresAt) ?? 'never'}`,
  ].join('\n');
}

/** The token text is shown here and nowhere else: the store keeps only its hash. */
function printNewToken(output: CommandOutput, json: boolean, created: NewToken, note: string): void {
  if (json) {
    output.stdout.write(`${JSON.stringify(newTokenJson(created.info, created.token))}\n`);
    return;
  }
  output.stdout.write(`token:       ${created.token}\n${infoText(created.info)}\n\n${note}\n`);
}

function cacheNote(config: Config): string {
  if (config.storage.s3 !== null) {
    return `takes effect on every node within ${config.storage.listingRefreshMs / 1000} s (storage.listing_refresh_s: each node reads the shared token table that often)`;
  }
  return `takes effect within ${config.auth.cacheTtlSeconds} s on a running server (auth.cache_ttl_seconds caches verified tokens)`;
}

async function create(tokens: TokenAccess, parsed: ParsedArgs, output: CommandOutput): Promise<void> {
  const name = requiredOption(parsed, 'name');
  const permissions = parsePermissions(requiredOption(parsed, 'permissions'));
  const databasesText = stringOption(parsed, 'databases');
  const description = stringOption(parsed, 'description');
  const expiresText = stringOption(parsed, 'expires-at');
  const prepared = await tokens.store.prepareCreate({
    name,
    permissions,
    ...(databasesText === undefined ? {} : { databases: commaList(databasesText, 'databases') }),
    ...(description === undefined ? {} : { description }),
    ...(expiresText === undefined ? {} : { expiresAt: parseExpiry(expiresText, Date.now()) }),
  });
  const created = await tokens.change((store) => store.insertPrepared(prepared));
  printNewToken(output, parsed.values.json === true, created, 'Copy the token now: it is not shown again.');
}

const LIST_HEADER = ['ID', 'NAME', 'PERMISSIONS', 'DATABASES', 'CREATED', 'LAST USED', 'EXPIRES', 'ENABLED'];

function listRow(summary: TokenSummary): string[] {
  return [
    String(summary.id),
    summary.name,
    summary.permissions.join(','),
    summary.databases === null ? 'all' : summary.databases.join(','),
    isoOrNull(summary.createdAt) ?? '-',
    isoOrNull(summary.lastUsedAt) ?? 'never',
    isoOrNull(summary.expiresAt) ?? 'never',
    summary.enabled ? 'yes' : 'no',
  ];
}

function list(store: TokenStore, parsed: ParsedArgs, output: CommandOutput): void {
  const summaries = store.list();
  if (parsed.values.json === true) {
    output.stdout.write(`${JSON.stringify(summaries.map(tokenJson))}\n`);
    return;
  }
  output.stdout.write(`${formatTable([LIST_HEADER, ...summaries.map(listRow)])}\n`);
}

/** Every change goes through `tokens.change`: with an object store, to the table all nodes share. */
async function runSubcommand(subcommand: Subcommand, parsed: ParsedArgs, config: Config, tokens: TokenAccess, output: CommandOutput): Promise<void> {
  if (subcommand === 'create') return create(tokens, parsed, output);
  if (subcommand === 'list') {
    list(tokens.store, parsed, output);
    return;
  }
  const token = resolveToken(tokens.store, onePositional(subcommand, parsed));
  if (subcommand === 'rotate') {
    const secret = await tokens.store.prepareRotation();
    const rotated = await tokens.change((store) => store.applyRotation(token.id, secret));
    if (rotated === null) throw new TokenCommandError(`unknown token '${token.name}' (deleted meanwhile)`, 'refused');
    printNewToken(output, parsed.values.json === true, rotated, `Copy the token now: it is not shown again. The old token stops working; ${cacheNote(config)}.`);
    return;
  }
  const done = await tokens.change((store) => (subcommand === 'revoke' ? store.setEnabled(token.id, false) : store.delete(token.id)));
  if (!done) throw new TokenCommandError(`unknown token '${token.name}' (deleted meanwhile)`, 'refused');
  if (parsed.values.json === true) {
    const answer = subcommand === 'revoke' ? tokenJson({ ...token, enabled: false }) : { id: token.id, deleted: true };
    output.stdout.write(`${JSON.stringify(answer)}\n`);
    return;
  }
  const verb = subcommand === 'revoke' ? 'disabled' : 'deleted';
  output.stdout.write(`Token '${token.name}' (${token.id}) ${verb}; ${cacheNote(config)}.\n`);
}

/**
 * arc.db, refusing a change when it is a copy of a table shared through an object store (this
 * command then lacks the server's storage settings): the next shared change would undo it.
 */
function localStore(config: Config, subcommand: Subcommand): TokenStore {
  const store = TokenStore.open(config.storage.metadataPath);
  const origin = store.sharedOrigin();
  if (origin === null || subcommand === 'list') return store;
  store.close();
  throw new TokenCommandError(
    `the tokens of ${config.storage.metadataPath} are a copy of the table shared in the ${origin}: run 'arc token' with the server's storage settings (its arc.conf, or the same ARC_STORAGE_* variables), else the change would be undone`,
    'refused',
  );
}

/** arc.db on local disk; with an object store, the table the nodes share in the bucket. */
async function openTokens(config: Config, subcommand: Subcommand, output: CommandOutput): Promise<TokenAccess> {
  if (config.storage.s3 === null) return new LocalTokenAccess(localStore(config, subcommand));
  // Loaded only here: the server package is large, and the local case needs none of it.
  const { createLogger, openSharedTokensForCommand } = await import('@arc/server');
  return openSharedTokensForCommand(config, createLogger('warn', 'text', (line) => output.stderr.write(line)));
}

/**
 * `arc token ...`: returns the exit code. Bad input (a TokenCommandError, or a value the store
 * refuses) is reported on stderr as one line; configuration errors go up to main like `serve`'s.
 */
export async function tokenCommand(args: readonly string[], output: CommandOutput): Promise<number> {
  const [subcommand = 'help', ...rest] = args;
  if (subcommand === 'help' || wantsHelp(args)) {
    output.stdout.write(TOKEN_USAGE);
    return EXIT_OK;
  }
  let tokens: TokenAccess | null = null;
  try {
    if (!isSubcommand(subcommand)) throw new TokenCommandError(`unknown subcommand 'token ${subcommand}'`);
    const parsed = parseSubcommandArgs(subcommand, rest);
    const config = loadConfig({ configPath: stringOption(parsed, 'config') });
    tokens = await openTokens(config, subcommand, output);
    await runSubcommand(subcommand, parsed, config, tokens, output);
    return EXIT_OK;
  } catch (error) {
    if (error instanceof ConfigError || !(error instanceof TokenCommandError || error instanceof CommandUsageError || isArcError(error))) throw error;
    const usage = error instanceof CommandUsageError || (error instanceof TokenCommandError && error.kind === 'usage');
    output.stderr.write(`arc token: ${error.message}${usage ? ` (see 'arc token --help')` : ''}\n`);
    return usage || (error instanceof TokenCommandError && error.kind === 'value') ? EXIT_USAGE : EXIT_FAILED;
  } finally {
    await tokens?.close();
  }
}
