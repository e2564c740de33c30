import { ArcError, ErrorKind } from '@arc/errors';
import { AuthErrorCode } from './error-codes.js';
import { TOKEN_TABLE_BYTES_MAX } from './limits.js';
import { isPermission } from './permissions.js';
import type { Permission } from './permissions.js';
import type { TokenRecord, TokenTableContent } from './token-store.js';

/**
 * The token table as one JSON document, for nodes that share it through an object store (the
 * server's token sync keeps it there and every node's arc.db holds a copy). It holds salted scrypt
 * hashes, never a token's text:
 *
 *   {"format": 1, "revision": 7, "idSequence": 12,
 *    "tokens": [{"id": 1, "name": "bootstrap", "description": "...", "hash": "scrypt$...",
 *                "lookupPrefix": "9f2c...", "permissions": ["admin"], "databases": null,
 *                "createdAt": 1764950400000, "expiresAt": null, "enabled": true}, ...]}
 *
 * `revision` grows by one with every change: it tells a log reader which table a node holds.
 */
export interface SharedTokenTable extends TokenTableContent {
  readonly revision: number;
}

/** Bumped when the document changes shape; a node refuses a format it does not know. */
export const TOKEN_TABLE_FORMAT = 1;

export function encodeTokenTable(table: SharedTokenTable): Uint8Array {
  const document = { format: TOKEN_TABLE_FORMAT, revision: table.revision, idSequence: table.idSequence, tokens: table.tokens };
  return Buffer.from(JSON.stringify(document));
}

function corrupt(where: string, problem: string): ArcError {
  return new ArcError(ErrorKind.internal, AuthErrorCode.tokenTableCorrupt, `The shared token table ${where} is unreadable: ${problem}`, { key: where });
}

function isCount(value: unknown, min: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min;
}

function isTimeOrNull(value: unknown): value is number | null {
  return value === null || isCount(value, 0);
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

/** The record, or what is wrong with it (every field is checked: a bad one must grant nothing). */
function recordOf(value: unknown): TokenRecord | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'a token is not an object';
  const record = value as Record<string, unknown>;
  const { id, name, description, hash, lookupPrefix, permissions, databases, createdAt, expiresAt, enabled } = record;
  if (!isCount(id, 1)) return 'a token id is not a positive integer';
  if (typeof name !== 'string' || typeof description !== 'string') return `token ${id} has no name or description`;
  if (typeof hash !== 'string' || hash === '' || typeof lookupPrefix !== 'string' || lookupPrefix === '') return `token ${id} has no hash`;
  if (!Array.isArray(permissions) || permissions.length === 0 || !permissions.every(isPermission)) return `token ${id} has bad permissions`;
  if (databases !== null && !isStringList(databases)) return `token ${id} has a bad database list`;
  if (!isCount(createdAt, 0) || !isTimeOrNull(expiresAt)) return `token ${id} has a bad creation or expiry time`;
  if (typeof enabled !== 'boolean') return `token ${id} has no enabled flag`;
  const granted: readonly Permission[] = permissions;
  return { id, name, description, hash, lookupPrefix, permissions: granted, databases, createdAt, expiresAt, enabled };
}

/** The records, or what is wrong: ids and names unique, no id above the sequence. */
function recordsOf(values: unknown[], idSequence: number): TokenRecord[] | string {
  const records: TokenRecord[] = [];
  const ids = new Set<number>();
  const names = new Set<string>();
  for (const value of values) {
    const record = recordOf(value);
    if (typeof record === 'string') return record;
    if (record.id > idSequence) return `token ${record.id} is above the id sequence ${idSequence}`;
    if (ids.has(record.id) || names.has(record.name)) return `token ${record.id} ('${record.name}') is listed twice`;
    ids.add(record.id);
    names.add(record.name);
    records.push(record);
  }
  return records;
}

/** The table stored under `where` (named in the error), or an error saying what is wrong with it. */
export function decodeTokenTable(bytes: Uint8Array, where: string): SharedTokenTable | ArcError {
  if (bytes.byteLength > TOKEN_TABLE_BYTES_MAX) return corrupt(where, `${bytes.byteLength} bytes, over the limit of ${TOKEN_TABLE_BYTES_MAX}`);
  let document: unknown;
  try {
    document = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (error) {
    return corrupt(where, `not JSON (${(error as Error).message})`);
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) return corrupt(where, 'not a JSON object');
  const { format, revision, idSequence, tokens } = document as Record<string, unknown>;
  if (format !== TOKEN_TABLE_FORMAT) return corrupt(where, `format ${JSON.stringify(format)}, this node reads format ${TOKEN_TABLE_FORMAT}`);
  if (!isCount(revision, 1) || !isCount(idSequence, 0) || !Array.isArray(tokens)) return corrupt(where, 'no revision, idSequence or tokens');
  const records = recordsOf(tokens, idSequence);
  if (typeof records === 'string') return corrupt(where, records);
  return { revision, idSequence, tokens: records };
}
