/**
 * What an error thrown by DuckDB says, read in one place. DuckDB's C API has a typed error
 * (`duckdb_result_error_type`, `duckdb_error_data_error_type`), but @duckdb/node-api does not
 * expose it: a failed query, prepare or statement extraction rejects with a plain `Error` whose
 * only field is the message, `<Type> Error: <text>` (see `not exposed` in @duckdb/node-bindings'
 * duckdb.d.ts). So this is the only code in Arc that reads DuckDB's text, and
 * packages/errors/test/duckdb-errors.test.ts pins the messages of the installed DuckDB: an
 * upgrade that rewords them fails that test instead of turning a 400 into a 500.
 */

/** DuckDB's exception types (the `<Type>` of `<Type> Error:`), those Arc tells apart. */
export const DuckDBErrorType = Object.freeze({
  parser: 'Parser',
  syntax: 'Syntax',
  binder: 'Binder',
  catalog: 'Catalog',
  conversion: 'Conversion',
  invalidInput: 'Invalid Input',
  outOfRange: 'Out of Range',
  mismatchType: 'Mismatch Type',
  divideByZero: 'Divide by Zero',
  notImplemented: 'Not implemented',
  invalidType: 'Invalid type',
  parameterNotResolved: 'Parameter Not Resolved',
  parameterNotAllowed: 'Parameter Not Allowed',
  permission: 'Permission',
  outOfMemory: 'Out of Memory',
  io: 'IO',
} as const);
export type DuckDBErrorType = (typeof DuckDBErrorType)[keyof typeof DuckDBErrorType];

export interface DuckDBErrorFacts {
  /** The exception type, or null when the text has no `<Type> Error:` head (not a DuckDB error). */
  readonly type: string | null;
  /** DuckDB's message, without node-api's statement-extraction prefix. */
  readonly message: string;
  /** The error is the disk being full, not what its type says (see DISK_FULL_TEXTS). */
  readonly diskFull: boolean;
}

/** node-api puts this before DuckDB's own message when it cannot split the SQL into statements. */
const EXTRACT_PREFIX = 'Failed to extract statements: ';

/** `<Type> Error: `: a type is words, spaces and hyphens (`Out of Memory`, `Auto-load`). */
const TYPE_HEAD = /^([A-Za-z][A-Za-z -]*?) Error: /;

/**
 * Texts that mean "no room on the disk". An IO Error quotes the OS's strerror (DuckDB keeps no
 * errno); a spill past `max_temp_directory_size` is an Out of Memory Error that is the disk, not
 * memory, when the writer sets that limit so that only a full disk reaches it
 * (writer/src/limits.ts, ENCODER_TEMP_DIRECTORY_SIZE_MAX). Looked for anywhere in the message,
 * whatever the type: DuckDB may wrap the IO error of a COPY in another.
 */
const DISK_FULL_TEXTS: readonly string[] = ['No space left on device', 'Disk quota exceeded', 'failed to offload data block'];

/** Reads the type and meaning of an error DuckDB (through @duckdb/node-api) threw. */
export function readDuckDBError(error: unknown): DuckDBErrorFacts {
  const text = error instanceof Error ? error.message : String(error);
  const message = text.startsWith(EXTRACT_PREFIX) ? text.slice(EXTRACT_PREFIX.length) : text;
  const type = TYPE_HEAD.exec(message)?.[1] ?? null;
  const diskFull = DISK_FULL_TEXTS.some((fullText) => message.includes(fullText));
  return { type, message, diskFull };
}
