import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import { quoteLiteral } from '@arc/columnar';
import { boundedFunctionMacros } from './bounded-functions.js';

export interface InstanceSettings {
  /** Absolute path of Arc's data directory (the only place user SQL may read). */
  readonly dataRoot: string;
  readonly duckdbThreads: number;
  /** DuckDB size syntax, e.g. '2GB'. */
  readonly memoryLimit: string;
  /** Absolute path where DuckDB spills operators that exceed the memory limit. */
  readonly tempDirectory: string;
}

/** EXPLAIN ANALYZE metrics shown: DuckDB's defaults without EXTRA_INFO and QUERY_NAME (server paths). */
const PROFILING_METRICS = [
  'OPERATOR_NAME',
  'OPERATOR_TYPE',
  'OPERATOR_TIMING',
  'OPERATOR_CARDINALITY',
  'OPERATOR_ROWS_SCANNED',
  'CUMULATIVE_CARDINALITY',
  'CUMULATIVE_ROWS_SCANNED',
  'LATENCY',
  'CPU_TIME',
  'ROWS_RETURNED',
  'RESULT_SET_SIZE',
  'SYSTEM_PEAK_BUFFER_MEMORY',
] as const;

/**
 * The statements that lock an instance down, in the only order found to work: resource settings
 * first (they are refused once the configuration is locked), extension autoloading off (else a
 * function name could pull an extension from disk or the network), then the directory allow-list,
 * then external access off (which freezes the allow-list), then the lock itself, which refuses
 * every later SET of a global option. TimeZone goes before the lock so that time functions agree
 * with the UTC instants Arc stores; the Parquet footer cache goes before it too. Session settings (`SET schema`) still work after the lock.
 */
export function lockdownStatements(settings: InstanceSettings): string[] {
  return [
    `SET threads = ${String(settings.duckdbThreads)}`,
    `SET memory_limit = ${quoteLiteral(settings.memoryLimit)}`,
    `SET temp_directory = ${quoteLiteral(settings.tempDirectory)}`,
    'SET autoinstall_known_extensions = false',
    'SET autoload_known_extensions = false',
    "SET TimeZone = 'UTC'",
    // Arc's files are written once and renamed into place: footers read once serve every later
    // query (DuckDB still checks each file's modification time before using a cached footer).
    'SET parquet_metadata_cache = true',
    // EXPLAIN ANALYZE shows each operator's extra info and the query text, both with the files'
    // absolute paths (view globs, pruned file lists): every other metric stays.
    `SET custom_profiling_settings = ${quoteLiteral(JSON.stringify(Object.fromEntries(PROFILING_METRICS.map((metric) => [metric, 'true']))))}`,
    // Setting the metrics also turns profiling on for every query, printed to the process's stdout
    // (a profile per query in the server log, and its cost in every answer): EXPLAIN ANALYZE
    // profiles its own statement without it.
    'PRAGMA disable_profiling',
    `SET allowed_directories = [${quoteLiteral(settings.dataRoot)}, ${quoteLiteral(settings.tempDirectory)}]`,
    'SET enable_external_access = false',
    'SET lock_configuration = true',
  ];
}

export interface LockedInstance {
  /** Held so the instance lives as long as its connection is in use. */
  readonly instance: DuckDBInstance;
  readonly connection: DuckDBConnection;
}

/** Opens an in-memory instance, locks it down, bounds its value-building functions and returns it with its one connection. */
export async function openLockedInstance(settings: InstanceSettings): Promise<LockedInstance> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  for (const statement of lockdownStatements(settings)) await connection.run(statement);
  // Macros are no configuration: they are defined after the lock, before any user SQL.
  for (const statement of boundedFunctionMacros()) await connection.run(statement);
  return { instance, connection };
}
