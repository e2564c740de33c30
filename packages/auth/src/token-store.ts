import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';
import { validateDatabaseName } from '@arc/columnar';
import { ArcError, ErrorKind, badRequest } from '@arc/errors';
import {
  LAST_USED_RESOLUTION_MS,
  SQLITE_BUSY_TIMEOUT_MS,
  TOKEN_DESCRIPTION_LENGTH_MAX,
  TOKEN_NAME_PATTERN,
  TOKEN_TEXT_LENGTH_MAX,
} from './limits.js';
import { isPermission } from './permissions.js';
import type { Permission, TokenInfo } from './permissions.js';
import { generateTokenText, hashToken, hashTokenSync, lookupPrefix, verifyTokenHash } from './token-hash.js';
import { AuthErrorCode } from './error-codes.js';

/**
 * Tokens live in a `tokens` table of arc.db (shared with other metadata, so this store creates
 * only its own table and index). Times are milliseconds since the epoch; `permissions` and
 * `databases` are JSON arrays (`databases` NULL = every database).
 */
const TOKEN_TABLE_COLUMNS = `
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  name          TEXT NOT NULL UNIQUE,
  description   TEXT NOT NULL DEFAULT '',
  hash          TEXT NOT NULL,
  lookup_prefix TEXT NOT NULL,
  permissions   TEXT NOT NULL,
  databases     TEXT,
  created_at    INTEGER NOT NULL,
  last_used_at  INTEGER,
  expires_at    INTEGER,
  enabled       INTEGER NOT NULL DEFAULT 1
`;

/**
 * `token_table_origin` holds one row while this file is a copy of a table shared through an object
 * store (the server's token sync writes it), naming where: `arc token` run without those storage
 * settings then refuses to change the copy, whose changes the next shared one would undo.
 */
const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS tokens (${TOKEN_TABLE_COLUMNS});
CREATE INDEX IF NOT EXISTS tokens_lookup_prefix ON tokens (lookup_prefix);
CREATE TABLE IF NOT EXISTS token_table_origin (id INTEGER PRIMARY KEY CHECK (id = 1), shared_at TEXT NOT NULL);
`;

const BOOTSTRAP_TOKEN_NAME = 'bootstrap';

/**
 * Token ids are integers, as Arc's other servers and its Python SDK (`TokenInfo.id: int`) have
 * them. AUTOINCREMENT: an id is never given again after its token is deleted, so an id in an old
 * log line or script cannot come to mean another token. Files written before ids were integers
 * (TEXT UUIDs) are rewritten once at open (`migrateTextIds`), keeping every token's text working.
 */
const TEXT_ID_MIGRATION_SQL = `
CREATE TABLE tokens_integer_ids (${TOKEN_TABLE_COLUMNS});
INSERT INTO tokens_integer_ids (name, description, hash, lookup_prefix, permissions, databases, created_at, last_used_at, expires_at, enabled)
  SELECT name, description, hash, lookup_prefix, permissions, databases, created_at, last_used_at, expires_at, enabled
  FROM tokens ORDER BY created_at, name;
DROP TABLE tokens;
ALTER TABLE tokens_integer_ids RENAME TO tokens;
CREATE INDEX IF NOT EXISTS tokens_lookup_prefix ON tokens (lookup_prefix);
`;

/** Rewrites a tokens table whose ids are TEXT into integer ids (oldest token first), in one transaction. */
function migrateTextIds(db: Database): void {
  const columns = db.prepare('PRAGMA table_info(tokens)').all() as { name: string; type: string }[];
  const idColumn = columns.find((column) => column.name === 'id');
  if (idColumn === undefined || idColumn.type.toUpperCase() === 'INTEGER') return;
  db.transaction(() => db.exec(TEXT_ID_MIGRATION_SQL))();
}

interface TokenRow extends NewTokenRow {
  readonly id: number;
}

/** A row before its insert, which gives it its id. */
interface NewTokenRow {
  readonly name: string;
  readonly description: string;
  readonly hash: string;
  readonly lookup_prefix: string;
  readonly permissions: string;
  readonly databases: string | null;
  readonly created_at: number;
  readonly last_used_at: number | null;
  readonly expires_at: number | null;
  readonly enabled: number;
}

export interface CreateTokenInput {
  readonly name: string;
  readonly description?: string;
  /** Checked here: anything but read, write, delete, admin is refused with a 400. */
  readonly permissions: readonly string[];
  /** Omit for every database. */
  readonly databases?: readonly string[];
  /** Milliseconds since the epoch, in the future. Omit for a token that never expires. */
  readonly expiresAt?: number;
}

/** A token as listed for administrators: everything except the secret and its hash. */
export interface TokenSummary extends TokenInfo {
  readonly description: string;
  readonly createdAt: number;
  readonly lastUsedAt: number | null;
  readonly enabled: boolean;
}

/**
 * A change to a token (PATCH /auth/tokens/{id}): absent keys stay as they are. `databases: null`
 * opens the token to every database, `expiresAt: null` makes it never expire.
 */
export interface TokenPatch {
  readonly name?: string;
  readonly description?: string;
  readonly permissions?: readonly string[];
  readonly databases?: readonly string[] | null;
  readonly expiresAt?: number | null;
  readonly enabled?: boolean;
}

/** A token just created or rotated: the text is shown once and never stored. */
export interface NewToken {
  readonly info: TokenSummary;
  readonly token: string;
}

/**
 * A token as a table shared between nodes keeps it (token-table.ts): everything but its last use,
 * which each node records for itself (a write to the shared table per request would cost too much).
 */
export interface TokenRecord {
  readonly id: number;
  readonly name: string;
  readonly description: string;
  /** The salted scrypt hash (token-hash.ts); the token text is never kept. */
  readonly hash: string;
  readonly lookupPrefix: string;
  readonly permissions: readonly Permission[];
  /** Null: every database. */
  readonly databases: readonly string[] | null;
  readonly createdAt: number;
  readonly expiresAt: number | null;
  readonly enabled: boolean;
}

/** Every token, and the largest id ever given (ids are never given twice, also after a delete). */
export interface TokenTableContent {
  readonly idSequence: number;
  readonly tokens: readonly TokenRecord[];
}

/** A token checked and hashed, not yet inserted (`prepareCreate`, then `insertPrepared`). */
export interface PreparedToken {
  readonly token: string;
  readonly row: NewTokenRow;
}

/** A new secret hashed for a rotation (`prepareRotation`, then `applyRotation`). */
export interface PreparedSecret {
  readonly token: string;
  readonly hash: string;
}

export interface TokenStoreOptions {
  /** Clock in milliseconds since the epoch; tests pass their own to expire tokens without waiting. */
  readonly now?: () => number;
}

/** A token id as text (URL path, command line): a positive integer of at most 15 digits (exact as a double). */
export const TOKEN_ID_PATTERN = /^[1-9][0-9]{0,14}$/;

/** The id written as `text`, or null when it cannot be one. */
export function parseTokenId(text: string): number | null {
  return TOKEN_ID_PATTERN.test(text) ? Number(text) : null;
}

function parseJsonArray(text: string | null): unknown[] | null {
  if (text === null) return null;
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}

/** The TokenInfo of a row; null for a row whose JSON columns are corrupt (then it grants nothing). */
function infoOf(row: TokenRow): TokenInfo | null {
  const permissions = parseJsonArray(row.permissions);
  if (!permissions?.every(isPermission)) return null;
  const databases = parseJsonArray(row.databases);
  if (row.databases !== null && (!databases?.every((db) => typeof db === 'string'))) return null;
  return Object.freeze({
    id: row.id,
    name: row.name,
    permissions: Object.freeze([...permissions]),
    databases: databases === null ? null : Object.freeze(databases.map(String)),
    expiresAt: row.expires_at,
  });
}

function summaryOf(row: TokenRow): TokenSummary | null {
  const info = infoOf(row);
  if (info === null) return null;
  return Object.freeze({ ...info, description: row.description, createdAt: row.created_at, lastUsedAt: row.last_used_at, enabled: row.enabled === 1 });
}

/** The row as a shared table keeps it; null for a row with corrupt JSON columns (it grants nothing). */
function recordOf(row: TokenRow): TokenRecord | null {
  const info = infoOf(row);
  if (info === null) return null;
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    hash: row.hash,
    lookupPrefix: row.lookup_prefix,
    permissions: info.permissions,
    databases: info.databases,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    enabled: row.enabled === 1,
  };
}

function rowOfRecord(record: TokenRecord, lastUsedAt: number | null): TokenRow {
  return {
    id: record.id,
    name: record.name,
    description: record.description,
    hash: record.hash,
    lookup_prefix: record.lookupPrefix,
    permissions: JSON.stringify(record.permissions),
    databases: record.databases === null ? null : JSON.stringify(record.databases),
    created_at: record.createdAt,
    last_used_at: lastUsedAt,
    expires_at: record.expiresAt,
    enabled: record.enabled ? 1 : 0,
  };
}

function isExpired(row: TokenRow, now: number): boolean {
  return row.expires_at !== null && row.expires_at <= now;
}

function sqliteCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

function checkTokenText(token: string, what: string): void {
  // Header parsing trims and splits on whitespace, so such a token could never be presented.
  // eslint-disable-next-line no-control-regex
  if (token.length === 0 || token.length > TOKEN_TEXT_LENGTH_MAX || /[\s\u0000-\u001f\u007f]/.test(token)) {
    throw badRequest(AuthErrorCode.badTokenText, `${what} must be 1 to ${TOKEN_TEXT_LENGTH_MAX} characters without spaces or control characters`);
  }
}

function checkName(name: string): void {
  if (!TOKEN_NAME_PATTERN.test(name)) {
    throw badRequest(AuthErrorCode.badTokenName, `Invalid token name '${name}': must match ${TOKEN_NAME_PATTERN.source}`, { name });
  }
}

function checkPermissions(permissions: readonly string[]): Permission[] {
  const unique = [...new Set<unknown>(permissions)];
  const bad = unique.find((permission) => !isPermission(permission));
  if (bad !== undefined) {
    // The list comes from JSON: a bad entry may be any JSON value, shown as JSON unless it is text.
    const shown = typeof bad === 'string' ? bad : JSON.stringify(bad);
    throw badRequest(AuthErrorCode.badPermission, `Invalid permission '${shown}': must be read, write, delete or admin`);
  }
  if (unique.length === 0) throw badRequest(AuthErrorCode.badPermission, 'A token needs at least one permission');
  return unique.filter(isPermission);
}

function checkDescription(description: string): void {
  if (description.length > TOKEN_DESCRIPTION_LENGTH_MAX) {
    throw badRequest(AuthErrorCode.badDescription, `Token description longer than ${TOKEN_DESCRIPTION_LENGTH_MAX} characters`);
  }
}

function checkDatabases(databases: readonly string[] | null | undefined): string[] | null {
  if (databases === undefined || databases === null) return null;
  if (databases.length === 0) {
    throw badRequest(AuthErrorCode.badDatabase, 'A database list needs at least one database (omit it for all databases)');
  }
  for (const database of databases) {
    const error: ArcError | null = validateDatabaseName(database);
    if (error !== null) throw error;
  }
  return [...new Set(databases)];
}

function checkExpiry(expiresAt: number | null | undefined, now: number): number | null {
  if (expiresAt === undefined || expiresAt === null) return null;
  if (!Number.isSafeInteger(expiresAt)) {
    throw badRequest(AuthErrorCode.badExpiry, `Token expiry ${String(expiresAt)} must be an integer number of milliseconds since the epoch`);
  }
  if (expiresAt <= now) {
    throw badRequest(AuthErrorCode.badExpiry, `Token expiry ${new Date(expiresAt).toISOString()} is not in the future`);
  }
  return expiresAt;
}

function nameTaken(name: string): ArcError {
  return new ArcError(ErrorKind.conflict, AuthErrorCode.tokenNameTaken, `A token named '${name}' already exists`, { name });
}

/**
 * The tokens table of arc.db. Tokens are addressed by id (an integer); names are unique too, and
 * `find` accepts either for the command line. Every write is one SQLite statement or transaction,
 * so the server and `arc token` can change the file at the same time (WAL mode).
 */
export class TokenStore {
  readonly #db: Database;
  readonly #now: () => number;
  readonly #count: Statement;
  readonly #insert: Statement;
  readonly #byPrefix: Statement;
  readonly #byId: Statement;
  readonly #byName: Statement;
  readonly #all: Statement;
  readonly #touch: Statement;
  readonly #update: Statement;
  readonly #delete: Statement;
  readonly #rehash: Statement;
  readonly #insertWithId: Statement;
  readonly #deleteAll: Statement;
  readonly #sequence: Statement;
  readonly #clearSequence: Statement;
  readonly #setSequence: Statement;

  private constructor(db: Database, now: () => number) {
    this.#db = db;
    this.#now = now;
    this.#count = db.prepare('SELECT COUNT(*) AS count FROM tokens');
    this.#insert = db.prepare(
      `INSERT INTO tokens (name, description, hash, lookup_prefix, permissions, databases, created_at, last_used_at, expires_at, enabled)
       VALUES (@name, @description, @hash, @lookup_prefix, @permissions, @databases, @created_at, @last_used_at, @expires_at, @enabled)`,
    );
    this.#byPrefix = db.prepare('SELECT * FROM tokens WHERE lookup_prefix = ?');
    this.#byId = db.prepare('SELECT * FROM tokens WHERE id = ?');
    this.#byName = db.prepare('SELECT * FROM tokens WHERE name = ?');
    this.#all = db.prepare('SELECT * FROM tokens ORDER BY created_at, name');
    this.#touch = db.prepare('UPDATE tokens SET last_used_at = ? WHERE id = ?');
    this.#update = db.prepare(
      `UPDATE tokens SET name = @name, description = @description, permissions = @permissions, databases = @databases,
       expires_at = @expires_at, enabled = @enabled WHERE id = @id`,
    );
    this.#delete = db.prepare('DELETE FROM tokens WHERE id = ?');
    this.#rehash = db.prepare('UPDATE tokens SET hash = ?, lookup_prefix = ? WHERE id = ?');
    this.#insertWithId = db.prepare(
      `INSERT INTO tokens (id, name, description, hash, lookup_prefix, permissions, databases, created_at, last_used_at, expires_at, enabled)
       VALUES (@id, @name, @description, @hash, @lookup_prefix, @permissions, @databases, @created_at, @last_used_at, @expires_at, @enabled)`,
    );
    this.#deleteAll = db.prepare('DELETE FROM tokens');
    // AUTOINCREMENT keeps the largest id ever given in sqlite_sequence (a row once a token was inserted).
    this.#sequence = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'tokens'");
    this.#clearSequence = db.prepare("DELETE FROM sqlite_sequence WHERE name = 'tokens'");
    this.#setSequence = db.prepare("INSERT INTO sqlite_sequence (name, seq) VALUES ('tokens', ?)");
  }

  /** Opens (creating if needed) the SQLite file and its `tokens` table, in WAL journal mode. */
  static open(path: string, options: TokenStoreOptions = {}): TokenStore {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path, { timeout: SQLITE_BUSY_TIMEOUT_MS });
    // WAL lets the server read tokens while the CLI writes; NORMAL sync is durable in WAL mode
    // except for the last commits before a power loss, which a token create can afford.
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec(SCHEMA_SQL);
    migrateTextIds(db);
    return new TokenStore(db, options.now ?? Date.now);
  }

  #tokenCount(): number {
    const row = this.#count.get() as { count: number };
    return row.count;
  }

  /** Checks every field (before any hashing: bad input must cost no scrypt run) and builds the row. */
  #rowOf(input: CreateTokenInput, token: string, hash: (token: string) => string): NewTokenRow {
    checkName(input.name);
    const description = input.description ?? '';
    checkDescription(description);
    const permissions = checkPermissions(input.permissions);
    const databases = checkDatabases(input.databases);
    const now = this.#now();
    const expiresAt = checkExpiry(input.expiresAt, now);
    return {
      name: input.name,
      description,
      hash: hash(token),
      lookup_prefix: lookupPrefix(token),
      permissions: JSON.stringify(permissions),
      databases: databases === null ? null : JSON.stringify(databases),
      created_at: now,
      last_used_at: null,
      expires_at: expiresAt,
      enabled: 1,
    };
  }

  /** Runs a write that may hit the unique name; a taken name becomes a 409, not a crash. */
  #uniqueName<T>(name: string, write: () => T): T {
    try {
      return write();
    } catch (error) {
      if (sqliteCode(error) !== 'SQLITE_CONSTRAINT_UNIQUE') throw error;
      throw nameTaken(name);
    }
  }

  #rowById(id: number): TokenRow | undefined {
    return this.#byId.get(id) as TokenRow | undefined;
  }

  /**
   * First start with no tokens: create an admin token named 'bootstrap' from `presetToken`
   * (ARC_AUTH_BOOTSTRAP_TOKEN) or a random one. Returns the token text only when it was created
   * now, so the caller prints it once; later starts return `{ created: false, token: null }`.
   */
  ensureBootstrapToken(presetToken: string): { created: boolean; token: string | null } {
    if (this.#tokenCount() > 0) return { created: false, token: null };
    if (presetToken !== '') checkTokenText(presetToken, 'The bootstrap token');
    const token = presetToken === '' ? generateTokenText() : presetToken;
    const row = this.#rowOf({ name: BOOTSTRAP_TOKEN_NAME, description: 'Admin token created on first start', permissions: ['admin'] }, token, hashTokenSync);
    // Hash outside the transaction (it is slow), then insert only if still no token exists: two
    // processes starting at once must not both create one.
    const insertIfEmpty = this.#db.transaction((): boolean => {
      if (this.#tokenCount() > 0) return false;
      this.#uniqueName(row.name, () => this.#insert.run(row));
      return true;
    });
    return insertIfEmpty.immediate() ? { created: true, token } : { created: false, token: null };
  }

  /** Creates a token; the returned text is shown once and never stored. Blocks for one scrypt hash. */
  create(input: CreateTokenInput): NewToken {
    const token = generateTokenText();
    return this.#insertNew(this.#rowOf(input, token, hashTokenSync), token);
  }

  /**
   * `create` for the server: the fields are checked first, then the hash runs on libuv's thread
   * pool (the row is built with a placeholder and the hash put in before the insert).
   */
  async createAsync(input: CreateTokenInput): Promise<NewToken> {
    return this.insertPrepared(await this.prepareCreate(input));
  }

  /**
   * The first half of `createAsync`: checks the fields and hashes a new token off the calling
   * thread, without inserting it, so that a change retried against a shared table hashes once.
   */
  async prepareCreate(input: CreateTokenInput): Promise<PreparedToken> {
    const token = generateTokenText();
    const row = this.#rowOf(input, token, () => '');
    return { token, row: { ...row, hash: await hashToken(token) } };
  }

  /** The second half of `createAsync`: inserts a prepared token (a 409 if its name is taken by then). */
  insertPrepared(prepared: PreparedToken): NewToken {
    return this.#insertNew(prepared.row, prepared.token);
  }

  #insertNew(newRow: NewTokenRow, token: string): NewToken {
    assert.ok(newRow.hash !== '', 'a token row is inserted with its hash');
    const result = this.#uniqueName(newRow.name, () => this.#insert.run(newRow));
    const info = summaryOf({ ...newRow, id: Number(result.lastInsertRowid) });
    assert.ok(info !== null, 'a row built by create is well-formed');
    return { info, token };
  }

  /**
   * The token's info, or null if it is unknown, disabled or expired. scrypt runs off the calling
   * thread. An unknown token costs one indexed lookup and no hash, so random guesses are cheap to
   * refuse; that reveals only that no token has this SHA-256 prefix, which helps no attacker.
   */
  async verify(token: string): Promise<TokenInfo | null> {
    if (token.length === 0 || token.length > TOKEN_TEXT_LENGTH_MAX) return null;
    const now = this.#now();
    const rows = this.#byPrefix.all(lookupPrefix(token)) as TokenRow[];
    for (const row of rows) {
      if (row.enabled !== 1 || isExpired(row, now)) continue;
      const info = infoOf(row);
      if (info === null || !(await verifyTokenHash(token, row.hash))) continue;
      this.#recordUse(row, now);
      return info;
    }
    return null;
  }

  /** Best effort: a busy database (another writer) must not fail the request being authenticated. */
  #recordUse(row: TokenRow, now: number): void {
    if (!this.#db.open) return;
    if (row.last_used_at !== null && now - row.last_used_at < LAST_USED_RESOLUTION_MS) return;
    try {
      this.#touch.run(now, row.id);
    } catch (error) {
      if (!sqliteCode(error)?.startsWith('SQLITE_BUSY')) throw error;
    }
  }

  /** Every well-formed token, oldest first (a row with corrupt JSON columns is left out). */
  list(): TokenSummary[] {
    const summaries: TokenSummary[] = [];
    for (const row of this.#all.all() as TokenRow[]) {
      const summary = summaryOf(row);
      if (summary !== null) summaries.push(summary);
    }
    return summaries;
  }

  get(id: number): TokenSummary | null {
    const row = this.#rowById(id);
    return row === undefined ? null : summaryOf(row);
  }

  /** By id, else by name: what `arc token revoke <id|name>` accepts. */
  find(idOrName: string): TokenSummary | null {
    const byId = TOKEN_ID_PATTERN.test(idOrName) ? this.#rowById(Number(idOrName)) : undefined;
    const row = byId ?? (this.#byName.get(idOrName) as TokenRow | undefined);
    return row === undefined ? null : summaryOf(row);
  }

  /** Applies a patch after checking every value; null if there is no such token. */
  update(id: number, patch: TokenPatch): TokenSummary | null {
    const row = this.#rowById(id);
    if (row === undefined) return null;
    if (patch.name !== undefined) checkName(patch.name);
    if (patch.description !== undefined) checkDescription(patch.description);
    const permissions = patch.permissions === undefined ? null : checkPermissions(patch.permissions);
    const databases = patch.databases === undefined ? undefined : checkDatabases(patch.databases);
    const expiresAt = patch.expiresAt === undefined ? row.expires_at : checkExpiry(patch.expiresAt, this.#now());
    const updated: TokenRow = {
      ...row,
      name: patch.name ?? row.name,
      description: patch.description ?? row.description,
      permissions: permissions === null ? row.permissions : JSON.stringify(permissions),
      databases: databases === undefined ? row.databases : databases === null ? null : JSON.stringify(databases),
      expires_at: expiresAt,
      enabled: patch.enabled === undefined ? row.enabled : patch.enabled ? 1 : 0,
    };
    if (this.#uniqueName(updated.name, () => this.#update.run(updated)).changes === 0) return null;
    return summaryOf(updated);
  }

  /** Enables or disables a token; false if there is no such token. */
  setEnabled(id: number, enabled: boolean): boolean {
    return this.update(id, { enabled }) !== null;
  }

  /** Deletes a token; false if there is no such token. */
  delete(id: number): boolean {
    return this.#delete.run(id).changes > 0;
  }

  /** Replaces a token's secret (the old text stops working); null if there is no such token. Blocks for one scrypt hash. */
  rotate(id: number): NewToken | null {
    const token = generateTokenText();
    return this.#applyRotation(id, token, hashTokenSync(token));
  }

  /** `rotate` for the server: the hash runs on libuv's thread pool. */
  async rotateAsync(id: number): Promise<NewToken | null> {
    if (this.get(id) === null) return null;
    return this.applyRotation(id, await this.prepareRotation());
  }

  /** A new secret and its hash (off the calling thread), for `applyRotation`. */
  async prepareRotation(): Promise<PreparedSecret> {
    const token = generateTokenText();
    return { token, hash: await hashToken(token) };
  }

  /** Gives the token the prepared secret (the old text stops working); null if there is no such token. */
  applyRotation(id: number, secret: PreparedSecret): NewToken | null {
    return this.#applyRotation(id, secret.token, secret.hash);
  }

  #applyRotation(id: number, token: string, hash: string): NewToken | null {
    if (this.#rehash.run(hash, lookupPrefix(token), id).changes === 0) return null;
    const info = this.get(id);
    return info === null ? null : { info, token };
  }

  /** Where the table this file copies is shared (an object store, described), or null when this file is the table. */
  sharedOrigin(): string | null {
    const row = this.#db.prepare('SELECT shared_at FROM token_table_origin WHERE id = 1').get() as { shared_at: string } | undefined;
    return row?.shared_at ?? null;
  }

  /** Records that this file copies a table shared at `origin` (null: it is the table itself again). */
  setSharedOrigin(origin: string | null): void {
    this.#db.transaction(() => {
      this.#db.prepare('DELETE FROM token_table_origin').run();
      if (origin !== null) this.#db.prepare('INSERT INTO token_table_origin (id, shared_at) VALUES (1, ?)').run(origin);
    }).immediate();
  }

  /** Every well-formed token without its last use, and the id sequence: what a shared table keeps. */
  exportTable(): TokenTableContent {
    const tokens: TokenRecord[] = [];
    for (const row of this.#all.all() as TokenRow[]) {
      const record = recordOf(row);
      if (record !== null) tokens.push(record);
    }
    tokens.sort((a, b) => a.id - b.id);
    const sequence = this.#sequence.get() as { seq: number } | undefined;
    const largestId = tokens.at(-1)?.id ?? 0;
    return { idSequence: Math.max(sequence?.seq ?? 0, largestId), tokens };
  }

  /**
   * Makes the table exactly `content`, in one transaction (a reader sees the old table or the new,
   * never a mix). Each token keeps the last use this store recorded under its id.
   */
  replaceTable(content: TokenTableContent): void {
    const lastUsed = new Map<number, number | null>();
    for (const row of this.#all.all() as TokenRow[]) lastUsed.set(row.id, row.last_used_at);
    this.#db.transaction(() => {
      this.#deleteAll.run();
      for (const record of content.tokens) {
        assert.ok(record.id <= content.idSequence, 'no token id is above the id sequence');
        this.#insertWithId.run(rowOfRecord(record, lastUsed.get(record.id) ?? null));
      }
      this.#clearSequence.run();
      this.#setSequence.run(content.idSequence);
    }).immediate();
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }
}
