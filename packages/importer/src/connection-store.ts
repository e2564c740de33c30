import { ArcError, ErrorKind, badRequest } from '@arc/errors';
import { isUniqueViolation, openSqliteFile } from '@arc/compaction';
import { driverFor, hasDriver } from './drivers.js';
import { ImporterErrorCode } from './error-codes.js';
import { CONNECTION_NAME_LENGTH_MAX, CONNECTION_SECRET_BYTES_MAX, CONNECTION_SETTINGS_BYTES_MAX } from './limits.js';
import type { SecretBox } from './secret-box.js';
import { SourceType, type SourceConnection } from './source.js';

/**
 * Connections to the systems imports read from, in `<data_dir>/import_connections.db`. Settings
 * (URL, database, user...) are JSON in the clear; the secret (password, token) is sealed with the
 * SecretBox and leaves the store only inside a SourceConnection handed to a driver, never in a
 * Connection (what the API shows). `PRAGMA user_version` is the schema's version.
 *
 * The API's types are `influx` (InfluxDB 1.x or 2.x by `settings.version`), `postgres` and
 * `http-json`; a connection's source type (the driver's) follows from its type and settings.
 * One connection per type may be active: the one an import without a named connection uses. The
 * first connection of a type is made active; deleting the active one leaves none active.
 */

export const CONNECTION_FILE_NAME = 'import_connections.db';
const SCHEMA_VERSION = 1;

export const ConnectionType = { influx: 'influx', postgres: 'postgres', httpJson: 'http-json' } as const;
export type ConnectionType = (typeof ConnectionType)[keyof typeof ConnectionType];
export const CONNECTION_TYPES: readonly ConnectionType[] = Object.values(ConnectionType);

export function isConnectionType(value: unknown): value is ConnectionType {
  return typeof value === 'string' && (CONNECTION_TYPES as readonly string[]).includes(value);
}

/** The key check: a known text sealed when the file is made, opened at each open (a changed key stops the start). */
const KEY_CHECK_NAME = 'key_check';
const KEY_CHECK_TEXT = 'arc import connections';

const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS connections (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  type        TEXT NOT NULL,
  name        TEXT NOT NULL,
  settings    TEXT NOT NULL,
  secret      BLOB,
  active      INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1)),
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL,
  UNIQUE (type, name)
);
CREATE UNIQUE INDEX IF NOT EXISTS connections_one_active ON connections (type) WHERE active = 1;
CREATE TABLE IF NOT EXISTS meta (
  name  TEXT PRIMARY KEY,
  value BLOB NOT NULL
);
`;

/** A connection as the API shows it: no secret, only whether there is one. */
export interface Connection {
  readonly id: number;
  readonly type: ConnectionType;
  readonly sourceType: SourceType;
  readonly name: string;
  readonly settings: Readonly<Record<string, unknown>>;
  readonly hasSecret: boolean;
  readonly active: boolean;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface ConnectionDraft {
  readonly name: string;
  readonly settings: Readonly<Record<string, unknown>>;
  /** null: the connection has none. */
  readonly secret: string | null;
}

/** A change: each field given replaces the stored one (`secret: null` removes the secret). */
export interface ConnectionChange {
  readonly name?: string | undefined;
  readonly settings?: Readonly<Record<string, unknown>> | undefined;
  readonly secret?: string | null | undefined;
}

interface StoredRow {
  id: number;
  type: string;
  name: string;
  settings: string;
  secret: Buffer | null;
  active: number;
  created_at: string;
  updated_at: string;
}

function badField(code: ImporterErrorCode, field: string, message: string): ArcError {
  return badRequest(code, message, { field });
}

function checkName(name: string): string {
  if (name.trim() === '' || name.length > CONNECTION_NAME_LENGTH_MAX) throw badField(ImporterErrorCode.badConnection, 'name', `name must be 1 to ${String(CONNECTION_NAME_LENGTH_MAX)} characters, not blank`);
  if (/\p{Cc}/u.test(name)) throw badField(ImporterErrorCode.badConnection, 'name', 'name must not hold control characters');
  return name;
}

function checkSecret(secret: string | null): string | null {
  if (secret === null) return null;
  if (secret === '') throw badField(ImporterErrorCode.badConnection, 'secret', 'secret must be a non-empty string, or null for none');
  if (Buffer.byteLength(secret) > CONNECTION_SECRET_BYTES_MAX) throw badField(ImporterErrorCode.badConnection, 'secret', `secret must be at most ${String(CONNECTION_SECRET_BYTES_MAX)} bytes`);
  return secret;
}

/** The URL at `settings.url` if there is one: http(s) or postgres(ql) as `schemes` say, and no password inside. */
function checkUrl(settings: Readonly<Record<string, unknown>>, schemes: readonly string[], required: boolean): void {
  const text = settings['url'];
  if (text === undefined && !required) return;
  const expected = `settings.url must be a ${schemes.map((scheme) => `${scheme}//`).join(' or ')} URL`;
  if (typeof text !== 'string') throw badField(ImporterErrorCode.badSettings, 'settings.url', `${expected}${text === undefined ? ' (required)' : ''}`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw badField(ImporterErrorCode.badSettings, 'settings.url', `${expected}, got text that is not a URL`);
  }
  if (!schemes.includes(url.protocol)) throw badField(ImporterErrorCode.badSettings, 'settings.url', `${expected}, got a ${url.protocol}// URL`);
  // Settings are returned by the API and stored in the clear: a password belongs in `secret`.
  if (url.password !== '') throw badField(ImporterErrorCode.badSettings, 'settings.url', 'settings.url must not hold a password: give it as "secret" (stored encrypted, never returned)');
}

/** The source type of an `influx` connection: `settings.version` 1 (the default) or 2. */
function influxSourceType(settings: Readonly<Record<string, unknown>>): SourceType {
  const version = settings['version'] ?? 1;
  if (version === 1) return SourceType.influx1;
  if (version === 2) return SourceType.influx2;
  throw badField(ImporterErrorCode.badSettings, 'settings.version', `settings.version must be 1 (InfluxDB 1.x) or 2 (InfluxDB 2.x), got ${JSON.stringify(version)}`);
}

/**
 * The checks every build makes (URL schemes, no password in a URL, size), then the driver's own
 * when this build has the type's driver. Returns the settings to store and the source type.
 */
export function checkConnectionSettings(type: ConnectionType, settings: Readonly<Record<string, unknown>>): { readonly sourceType: SourceType; readonly settings: Record<string, unknown> } {
  let sourceType: SourceType;
  let normalised: Record<string, unknown> = { ...settings };
  switch (type) {
    case ConnectionType.influx:
      sourceType = influxSourceType(settings);
      normalised = { ...settings, version: sourceType === SourceType.influx1 ? 1 : 2 };
      checkUrl(settings, ['http:', 'https:'], true);
      break;
    case ConnectionType.postgres:
      sourceType = SourceType.postgres;
      checkUrl(settings, ['postgres:', 'postgresql:'], false);
      if (settings['url'] === undefined && (typeof settings['host'] !== 'string' || settings['host'] === '')) throw badField(ImporterErrorCode.badSettings, 'settings.url', 'settings.url (postgres://user@host:5432/db) or settings.host is required');
      if (settings['url'] === undefined && settings['password'] !== undefined) throw badField(ImporterErrorCode.badSettings, 'settings.password', 'the password is not a setting: give it as "secret" (stored encrypted, never returned)');
      break;
    case ConnectionType.httpJson:
      sourceType = SourceType.httpJson;
      checkUrl(settings, ['http:', 'https:'], true);
      break;
  }
  if (hasDriver(sourceType)) normalised = driverFor(sourceType).checkSettings(normalised);
  if (Buffer.byteLength(JSON.stringify(normalised)) > CONNECTION_SETTINGS_BYTES_MAX) throw badField(ImporterErrorCode.badSettings, 'settings', `settings must be at most ${String(CONNECTION_SETTINGS_BYTES_MAX)} bytes of JSON`);
  return { sourceType, settings: normalised };
}

function sourceTypeOf(type: ConnectionType, settings: Readonly<Record<string, unknown>>): SourceType {
  if (type === ConnectionType.postgres) return SourceType.postgres;
  if (type === ConnectionType.httpJson) return SourceType.httpJson;
  return settings['version'] === 2 ? SourceType.influx2 : SourceType.influx1;
}

export class ConnectionStore {
  readonly #db: ReturnType<typeof openSqliteFile>;
  readonly #box: SecretBox;
  readonly #now: () => Date;

  private constructor(db: ReturnType<typeof openSqliteFile>, box: SecretBox, now: () => Date) {
    this.#db = db;
    this.#box = box;
    this.#now = now;
  }

  /** Opens (creating) the file; throws ARC_IMPORT_SECRET_KEY_MISMATCH when `box` has another key than the stored secrets. */
  static open(path: string, box: SecretBox, now: () => Date = () => new Date()): ConnectionStore {
    const db = openSqliteFile(path, {
      version: SCHEMA_VERSION,
      sql: SCHEMA_SQL,
      synchronous: 'FULL',
      foreignKeys: false,
      what: 'Import connection store',
        newerCode: ImporterErrorCode.storeNewer,
    });
    try {
      const check = db.prepare('SELECT value FROM meta WHERE name = ?').get(KEY_CHECK_NAME) as { value: Buffer } | undefined;
      if (check === undefined) db.prepare('INSERT INTO meta (name, value) VALUES (?, ?)').run(KEY_CHECK_NAME, box.seal(KEY_CHECK_TEXT));
      else box.open(check.value, `The import connections' secrets in ${path}`);
    } catch (error) {
      db.close();
      throw error;
    }
    return new ConnectionStore(db, box, now);
  }

  list(type: ConnectionType): Connection[] {
    const rows = this.#db.prepare('SELECT * FROM connections WHERE type = ? ORDER BY id').all(type) as StoredRow[];
    return rows.map(connectionOf);
  }

  /** The connection `id` of `type`; 404 when there is none (or it is of another type). */
  get(type: ConnectionType, id: number): Connection {
    return connectionOf(this.#row(type, id));
  }

  /** The connection `id` whatever its type, or null (jobs name connections by id alone). */
  find(id: number): Connection | null {
    const row = this.#db.prepare('SELECT * FROM connections WHERE id = ?').get(id) as StoredRow | undefined;
    return row === undefined ? null : connectionOf(row);
  }

  /** The active connection of `type`, or null. */
  active(type: ConnectionType): Connection | null {
    const row = this.#db.prepare('SELECT * FROM connections WHERE type = ? AND active = 1').get(type) as StoredRow | undefined;
    return row === undefined ? null : connectionOf(row);
  }

  create(type: ConnectionType, draft: ConnectionDraft): Connection {
    const name = checkName(draft.name);
    const { settings } = checkConnectionSettings(type, draft.settings);
    const secret = checkSecret(draft.secret);
    const at = this.#now().toISOString();
    return this.#db.transaction(() => {
      const first = this.#db.prepare('SELECT 1 FROM connections WHERE type = ? LIMIT 1').get(type) === undefined;
      const sealed = secret === null ? null : this.#box.seal(secret);
      const result = this.#unique(type, name, () =>
        this.#db.prepare('INSERT INTO connections (type, name, settings, secret, active, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)').run(type, name, JSON.stringify(settings), sealed, first ? 1 : 0, at, at),
      );
      return this.get(type, Number(result.lastInsertRowid));
    })();
  }

  update(type: ConnectionType, id: number, change: ConnectionChange): Connection {
    const row = this.#row(type, id);
    const name = change.name === undefined ? row.name : checkName(change.name);
    const settings = change.settings === undefined ? (JSON.parse(row.settings) as Record<string, unknown>) : checkConnectionSettings(type, change.settings).settings;
    const secret = change.secret === undefined ? undefined : checkSecret(change.secret);
    const sealed = secret === undefined ? row.secret : secret === null ? null : this.#box.seal(secret);
    this.#unique(type, name, () =>
      this.#db.prepare('UPDATE connections SET name = ?, settings = ?, secret = ?, updated_at = ? WHERE id = ?').run(name, JSON.stringify(settings), sealed, this.#now().toISOString(), id),
    );
    return this.get(type, id);
  }

  /** Deletes the connection; 409 ARC_IMPORT_CONNECTION_IN_USE when `jobsUsing` (the jobs reading from it) is not empty. */
  delete(type: ConnectionType, id: number, jobsUsing: readonly string[]): void {
    const row = this.#row(type, id);
    if (jobsUsing.length > 0) {
      throw new ArcError(ErrorKind.conflict, ImporterErrorCode.connectionInUse, `Connection '${row.name}' is used by the import job(s) ${jobsUsing.map((job) => `'${job}'`).join(', ')}: delete them or point them at another connection first`, { id });
    }
    this.#db.prepare('DELETE FROM connections WHERE id = ?').run(id);
  }

  /** Makes `id` the active connection of its type (the one before it no longer is). */
  activate(type: ConnectionType, id: number): Connection {
    this.#row(type, id);
    this.#db.transaction(() => {
      this.#db.prepare('UPDATE connections SET active = 0 WHERE type = ? AND active = 1').run(type);
      this.#db.prepare('UPDATE connections SET active = 1 WHERE id = ?').run(id);
    })();
    return this.get(type, id);
  }

  /** What a driver needs to reach the connection: its settings and its secret, opened. */
  sourceConnection(connection: Connection): SourceConnection {
    const row = this.#row(connection.type, connection.id);
    const secret = row.secret === null ? null : this.#box.open(row.secret, `The secret of connection '${row.name}'`);
    return { type: sourceTypeOf(connection.type, connection.settings), settings: connection.settings, secret };
  }

  close(): void {
    this.#db.close();
  }

  #row(type: ConnectionType, id: number): StoredRow {
    const row = this.#db.prepare('SELECT * FROM connections WHERE id = ? AND type = ?').get(id, type) as StoredRow | undefined;
    if (row === undefined) throw new ArcError(ErrorKind.notFound, ImporterErrorCode.connectionNotFound, `No ${type} connection has id ${String(id)}`, { id });
    return row;
  }

  #unique<T>(type: ConnectionType, name: string, write: () => T): T {
    try {
      return write();
    } catch (error) {
      if (isUniqueViolation(error)) throw new ArcError(ErrorKind.conflict, ImporterErrorCode.connectionNameTaken, `A ${type} connection named '${name}' exists already`, { field: 'name' });
      throw error;
    }
  }
}

/** The settings and secret of a connection not stored (`POST /connections/{type}/test` with settings). */
export function draftSourceConnection(type: ConnectionType, settings: Readonly<Record<string, unknown>>, secret: string | null): SourceConnection {
  const checked = checkConnectionSettings(type, settings);
  return { type: checked.sourceType, settings: checked.settings, secret: checkSecret(secret) };
}

function connectionOf(row: StoredRow): Connection {
  const type = row.type as ConnectionType;
  const settings = JSON.parse(row.settings) as Record<string, unknown>;
  return {
    id: row.id,
    type,
    sourceType: sourceTypeOf(type, settings),
    name: row.name,
    settings,
    hasSecret: row.secret !== null,
    active: row.active === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
