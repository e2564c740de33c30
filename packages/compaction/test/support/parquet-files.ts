// Test helpers: Parquet files written as Arc's writer names and tags them, straight into a store,
// and the rows of a measurement read back through the catalog.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { TAGS_METADATA_KEY, quoteLiteral } from '@arc/columnar';
import { MICROS_PER_HOUR, dataFileKey, dayStartUs, encodeSchema, schemaIdOf, schemaKey, type Storage } from '@arc/storage';

export interface TestRow {
  readonly host: string | null;
  readonly timeUs: number;
  readonly usage_user?: number | null;
  readonly usage_idle?: number | null;
}

let connection: DuckDBConnection | null = null;

export async function duckdb(): Promise<DuckDBConnection> {
  connection ??= await (await DuckDBInstance.create(':memory:', { threads: '1' })).connect();
  return connection;
}

function valueSql(value: number | null | undefined, type: string): string {
  return value === null || value === undefined ? `NULL::${type}` : `${String(value)}::${type}`;
}

/**
 * Writes the rows (all of one hour) as a Parquet file named like a writer's flush: unique
 * `w0-<sequence>-000000`, written at `writtenAtMs`. `fieldType` lets a file store a field as BIGINT.
 */
export async function putFile(storage: Storage, options: { readonly measurement?: string; readonly sequence: number; readonly writtenAtMs: number; readonly rows: readonly TestRow[]; readonly fieldType?: 'DOUBLE' | 'BIGINT'; readonly withIdle?: boolean }): Promise<string> {
  const measurement = options.measurement ?? 'cpu';
  const fieldType = options.fieldType ?? 'DOUBLE';
  const withIdle = options.withIdle ?? true;
  const select = options.rows
    .map((row) => {
      const idle = withIdle ? `, ${valueSql(row.usage_idle, fieldType)} AS usage_idle` : '';
      return `SELECT ${row.host === null ? 'NULL::VARCHAR' : quoteLiteral(row.host)} AS host, make_timestamp(${String(row.timeUs)}::BIGINT) AS time, ${valueSql(row.usage_user, fieldType)} AS usage_user${idle}`;
    })
    .join(' UNION ALL ');
  const times = options.rows.map((row) => row.timeUs);
  const minTimeUs = Math.min(...times);
  const maxTimeUs = Math.max(...times);
  const hourUs = Math.floor(minTimeUs / MICROS_PER_HOUR) * MICROS_PER_HOUR;
  const columns = [
    { name: 'host', type: 'VARCHAR' },
    { name: 'time', type: 'TIMESTAMP' },
    { name: 'usage_user', type: fieldType },
    ...(withIdle ? [{ name: 'usage_idle', type: fieldType }] : []),
  ];
  const schemaId = schemaIdOf(columns);
  await storage.backend.put(schemaKey('db', measurement, schemaId), encodeSchema(columns));
  const directory = `db/${measurement}/${new Date(hourUs / 1000).toISOString().slice(0, 13).replace(/-|T/g, '/')}`;
  const staging = await storage.backend.stagingPathIn(directory);
  const db = await duckdb();
  await db.run(`COPY (${select}) TO ${quoteLiteral(staging)} (FORMAT parquet, KV_METADATA {${quoteLiteral(TAGS_METADATA_KEY)}: ${quoteLiteral(JSON.stringify(['host']))}})`);
  const bytes = await storage.backend.sealStaged(staging);
  const key = dataFileKey({
    database: 'db',
    measurement,
    hourUs,
    nodeId: 'n1',
    unique: `w0-${String(options.sequence).padStart(6, '0')}-000000`,
    rows: options.rows.length,
    bytes,
    minTimeUs,
    maxTimeUs,
    writtenAtMs: options.writtenAtMs,
    schemaId,
  });
  await storage.backend.publish(staging, key);
  storage.filesPublished([{ key, bytes, columns }]);
  return key;
}

/** Every row of the measurement, as the catalog's files hold them, sorted. */
export async function readRows(storage: Storage, measurement = 'cpu'): Promise<string[]> {
  const files = storage.catalog.files('db', measurement);
  if (files.length === 0) return [];
  const list = files.map((file) => quoteLiteral(storage.locationOf(file.key))).join(', ');
  const db = await duckdb();
  const reader = await db.runAndReadAll(`SELECT host, epoch_us(time) AS t, usage_user, usage_idle FROM read_parquet([${list}], union_by_name = true) ORDER BY ALL`);
  return reader.getRowObjectsJS().map((row) => JSON.stringify(row, (_key, value: unknown) => (typeof value === 'bigint' ? Number(value) : value)));
}

/** Keys of every file under the root (staged ones too), relative, sorted. */
export async function objectsUnder(root: string): Promise<string[]> {
  const { readdir } = await import('node:fs/promises');
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'))
    .sort();
}

export async function writeRaw(root: string, key: string, body: string): Promise<void> {
  const { mkdir } = await import('node:fs/promises');
  await mkdir(path.dirname(path.join(root, key)), { recursive: true });
  await writeFile(path.join(root, key), body);
}

export { dayStartUs };
