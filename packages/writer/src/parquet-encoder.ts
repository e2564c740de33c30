import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import duckdb from '@duckdb/node-bindings';
import { DUCKDB_MEMORY_SQL } from '@arc/telemetry';
import { DuckDBDataChunk, DuckDBInstance, type DuckDBAppender, type DuckDBConnection } from '@duckdb/node-api';
import { ArcError, ErrorKind } from '@arc/errors';
import type { StorageBackend } from '@arc/storage';
import { isStorageFull, storageFullError } from './storage-full.js';
import {
  ColumnRole,
  ColumnType,
  MICROS_PER_HOUR,
  TAGS_METADATA_KEY,
  TIME_COLUMN,
  bytesOf,
  hourStartMicros,
  hourStartOfParts,
  TIME_MICROS_ABS_MAX,
  isBitSet,
  timeMicrosAt,
  timePairsOf,
  type ColumnBatch,
  type ColumnLayout,
  type SchemaColumn,
  quoteIdentifier,
  quoteLiteral,
  Utf8Dictionary,
} from '@arc/columnar';
import {
  DUCKDB_ENUM_UINT8_MEMBERS_MAX,
  DUCKDB_STRING_INLINE_BYTES_MAX,
  DUCKDB_STRING_T_BYTES,
  ENCODER_CHUNK_ROWS,
  ENCODER_YIELD_EVERY_CHUNKS,
  ENCODER_ENUM_MEMBERS_MAX,
  ENCODER_ENUM_ROWS_PER_MEMBER_MIN,
  ENCODER_ENUM_UNION_BYTES_MAX,
  ENCODER_MEMORY_LIMIT_DEFAULT,
  ENCODER_SCHEMA_NAME,
  ENCODER_TABLE_NAME,
  ENCODER_TEMP_DIRECTORY_SIZE_MAX,
  ENCODER_THREADS_MAX,
  ZSTD_COMPRESSION_LEVEL,
} from './limits.js';
import { WriterErrorCode } from './error-codes.js';

/**
 * Parquet encoding through DuckDB (docs/decisions.md). One encoder owns
 * one in-memory DuckDB instance; a flush fills a scratch table with raw vector copies of the
 * Arrow-layout batches (memcpy of time, int64 and float64 values and of validity bitmaps), then
 * writes one Parquet file per UTC hour with `COPY (... ORDER BY time) TO`. A utf8 column with few
 * distinct values across the flush becomes an ENUM of their union (uint8/uint16 codes); COPY
 * writes it as a plain UTF8 string column, so readers see VARCHAR either way.
 */

export const ParquetCompression = {
  snappy: 'snappy',
  zstd: 'zstd',
  gzip: 'gzip',
  uncompressed: 'uncompressed',
} as const;
export type ParquetCompression = (typeof ParquetCompression)[keyof typeof ParquetCompression];

/**
 * What the encoder asks of the store for the files it writes (storage's backend: only storage
 * touches the data directory). Paths are staged files (`*.tmp`) in existing directories.
 */
export type StagedFiles = Pick<StorageBackend, 'sealStaged' | 'discard'>;

export interface ParquetEncoderOptions {
  /** Seals each written file (durable, sized) and removes partial output after a failure. */
  readonly staged: StagedFiles;
  /** DuckDB worker threads of this encoder's instance (COPY and sort use them). */
  readonly threads: number;
  readonly compression: ParquetCompression;
  /** Rows per Parquet row group. */
  readonly rowGroupSize: number;
  /** Where DuckDB spills when a flush exceeds `memoryLimit`. */
  readonly tempDirectory: string;
  /** Most bytes DuckDB may spill there (`'1TiB'`); ENCODER_TEMP_DIRECTORY_SIZE_MAX when absent. */
  readonly tempDirectorySizeMax?: string;
  /** DuckDB memory limit (`'1GB'`, `'512MB'`); ENCODER_MEMORY_LIMIT_DEFAULT when absent. */
  readonly memoryLimit?: string;
}

export interface EncodedHourFile {
  /** Start of the UTC hour of every row in the file, microseconds since the epoch. */
  readonly hourStartUs: number;
  readonly path: string;
  readonly rowCount: number;
  readonly byteCount: number;
}

/** Wall-clock time of the phases of the last `encode`, for metrics and benchmarks. */
export interface EncodeTimings {
  /** Building the union dictionaries of utf8 columns in JS (which ones become ENUMs). */
  readonly planMs: number;
  /** Creating the scratch table (and ENUM types) and filling it through the appender. */
  readonly appendMs: number;
  /** The COPY statements (sort + Parquet encoding + write). */
  readonly copyMs: number;
  /** fsync and stat of the written files. */
  readonly syncMs: number;
  /** utf8 columns of the flush that went to DuckDB as ENUM (the rest as VARCHAR). */
  readonly enumColumnCount: number;
}

const DUCKDB_TYPE_BY_COLUMN_TYPE = {
  [ColumnType.int64]: duckdb.Type.BIGINT,
  [ColumnType.uint64]: duckdb.Type.UBIGINT,
  [ColumnType.float64]: duckdb.Type.DOUBLE,
  [ColumnType.utf8]: duckdb.Type.VARCHAR,
  [ColumnType.bool]: duckdb.Type.BOOLEAN,
} as const;

const SQL_TYPE_BY_COLUMN_TYPE = {
  [ColumnType.int64]: 'BIGINT',
  [ColumnType.uint64]: 'UBIGINT',
  [ColumnType.float64]: 'DOUBLE',
  [ColumnType.utf8]: 'VARCHAR',
  [ColumnType.bool]: 'BOOLEAN',
} as const;

const TABLE_SQL = `${quoteIdentifier(ENCODER_SCHEMA_NAME)}.${quoteIdentifier(ENCODER_TABLE_NAME)}`;

function enumTypeSql(schemaIndex: number): string {
  return `${quoteIdentifier(ENCODER_SCHEMA_NAME)}.${quoteIdentifier(`enum_${schemaIndex}`)}`;
}

/**
 * Members as SQL string literals. The parser keeps a literal's bytes as they are (no escapes, no
 * Unicode normalization; tested), and members never hold NUL, which would end the C string.
 */
function createEnumSql(schemaIndex: number, members: readonly string[]): string {
  return `CREATE TYPE ${enumTypeSql(schemaIndex)} AS ENUM (${members.map(quoteLiteral).join(', ')})`;
}

/**
 * The columns (name and SQL type) a Parquet file of this schema has, in file order: what a query
 * sees of a measurement whose rows are still buffered.
 */
export function parquetColumnsOf(schema: readonly SchemaColumn[]): { name: string; type: string }[] {
  return [{ name: TIME_COLUMN, type: 'TIMESTAMP' }, ...schema.map((column) => ({ name: column.name, type: SQL_TYPE_BY_COLUMN_TYPE[column.type] }))];
}

/**
 * `time` is TIMESTAMP (naive, microseconds), not TIMESTAMPTZ: the values are UTC instants, and
 * Parquet then holds timestamp[us] with isAdjustedToUTC=false, which every reader maps to a plain
 * timestamp without applying a session time zone. Query instances run with TimeZone='UTC'.
 */
function createTableSql(schema: readonly SchemaColumn[], plans: readonly ColumnPlan[]): string {
  const columns = [`${quoteIdentifier(TIME_COLUMN)} TIMESTAMP`];
  schema.forEach((column, index) => {
    assert.notEqual(column.name.toLowerCase(), TIME_COLUMN, 'time is never a tag or field');
    const type = plans[index] === null ? SQL_TYPE_BY_COLUMN_TYPE[column.type] : enumTypeSql(index);
    columns.push(`${quoteIdentifier(column.name)} ${type}`);
  });
  return `CREATE TABLE ${TABLE_SQL} (${columns.join(', ')})`;
}

/** Drops the scratch table and its ENUM types, whatever a failed flush left behind. */
function dropScratchSql(): string {
  return `DROP SCHEMA IF EXISTS ${quoteIdentifier(ENCODER_SCHEMA_NAME)} CASCADE`;
}

function copyOptionsSql(options: ParquetEncoderOptions, schema: readonly SchemaColumn[]): string {
  const tags = schema.filter((column) => column.role === ColumnRole.tag).map((column) => column.name);
  const parts = ['FORMAT parquet', `COMPRESSION ${options.compression}`];
  if (options.compression === ParquetCompression.zstd) parts.push(`COMPRESSION_LEVEL ${ZSTD_COMPRESSION_LEVEL}`);
  parts.push(`ROW_GROUP_SIZE ${options.rowGroupSize}`);
  parts.push(`KV_METADATA {${quoteLiteral(TAGS_METADATA_KEY)}: ${quoteLiteral(JSON.stringify(tags))}}`);
  return parts.join(', ');
}

/**
 * One hour's rows, sorted by time, rows of equal time in append order: DuckDB's sort is not
 * stable, so ties are ordered by the scratch table's `rowid` (its append position). Compaction's
 * deduplication takes a later row of one file as the later write (packages/compaction,
 * merge-sql.ts), so a flush must not swap two writes of one point. When the rows were appended
 * in time order already (the usual case: clients send in order) the sort is skipped: with
 * `preserve_insertion_order` (set at create) a filtered scan keeps the append order, and the sort
 * costs 2-3x the whole COPY on one thread. When every row is of this hour (the usual flush) the time filter is left out too: it
 * would select every row anyway, and evaluating it costs ~10-20% of the COPY.
 */
function copyHourSql(hourStartUs: number, path: string, copyOptions: string, appendedInOrder: boolean, onlyHour: boolean): string {
  const time = quoteIdentifier(TIME_COLUMN);
  const filter = onlyHour
    ? ''
    : ` WHERE ${time} >= make_timestamp(${hourStartUs}::BIGINT) ` +
      `AND ${time} < make_timestamp(${hourStartUs + MICROS_PER_HOUR}::BIGINT)`;
  const order = appendedInOrder ? '' : ` ORDER BY ${time}, rowid`;
  return `COPY (SELECT * FROM ${TABLE_SQL}${filter}${order}) TO ${quoteLiteral(path)} (${copyOptions})`;
}

/**
 * True when the rows, in append order (batch after batch), never go back in time. Times beyond
 * ±2^53 µs are not exact as doubles, so a flush holding one is always sorted (false).
 */
export function isInTimeOrder(batches: readonly ColumnBatch[]): boolean {
  let previousUs = Number.NEGATIVE_INFINITY;
  for (const batch of batches) {
    if (batch.rowCount === 0) continue;
    if (Math.max(-batch.timeMinUs, batch.timeMaxUs) > TIME_MICROS_ABS_MAX) return false;
    if (batch.timeMinUs < previousUs) return false;
    if (batch.timeMinUs !== batch.timeMaxUs) {
      const pairs = timePairsOf(batch);
      for (let row = 1; row < batch.rowCount; row++) {
        if (timeMicrosAt(pairs, row) < timeMicrosAt(pairs, row - 1)) return false;
      }
    }
    previousUs = batch.timeMaxUs;
  }
  return true;
}

/** The distinct UTC hours of all rows, ascending. Scans times only for batches that span hours. */
export function hoursOf(batches: readonly ColumnBatch[]): number[] {
  const hours = new Set<number>();
  for (const batch of batches) {
    if (batch.rowCount === 0) continue;
    const wide = Math.max(-batch.timeMinUs, batch.timeMaxUs) > TIME_MICROS_ABS_MAX;
    const first = hourStartMicros(batch.timeMinUs);
    if (!wide && first === hourStartMicros(batch.timeMaxUs)) {
      hours.add(first);
      continue;
    }
    // Row by row, exactly: a time beyond ±2^53 µs rounded to a double could land in the next hour.
    const pairs = timePairsOf(batch); // rowCount pairs: row * 2 + 1 < pairs.length
    for (let row = 0; row < batch.rowCount; row++) hours.add(hourStartOfParts(pairs[row * 2 + 1] as number, pairs[row * 2] as number));
  }
  return [...hours].sort((a, b) => a - b);
}

/** Where the values of one schema column come from in one batch; `null` = all NULL. */
type ColumnSource = ColumnLayout | null;

/**
 * Matches a batch's columns to the schema. The schema comes from `mergeSchema`, so a batch column
 * missing from it can only be an all-null column, and types differ only by int64 -> float64.
 */
function sourcesOf(batch: ColumnBatch, schema: readonly SchemaColumn[]): ColumnSource[] {
  const byName = new Map<string, ColumnLayout>();
  for (const column of batch.columns) byName.set(column.name, column);
  const sources: ColumnSource[] = [];
  for (const target of schema) {
    const source = byName.get(target.name);
    byName.delete(target.name);
    if (source === undefined || source.nullCount === batch.rowCount) {
      sources.push(null);
      continue;
    }
    assert.equal(source.role, target.role, 'batch column role matches the merged schema');
    const widened = source.type === ColumnType.int64 && target.type === ColumnType.float64;
    assert.ok(widened || source.type === target.type, 'batch column type matches the merged schema');
    sources.push(source);
  }
  for (const rest of byName.values()) assert.equal(rest.nullCount, batch.rowCount, 'unmerged column is all null');
  return sources;
}

/**
 * How one batch's values of an ENUM column become union codes: through a remap of the batch's own
 * dictionary codes (a dictionary-encoded batch), or as a union code per row (a plain utf8 batch,
 * hashed value by value). Null rows hold code 0; the validity bitmap says they are null.
 */
type EnumCodes =
  | { readonly kind: 'remap'; readonly remap: Uint16Array<ArrayBuffer> }
  | { readonly kind: 'rows'; readonly codes: Uint16Array<ArrayBuffer> };

/** A utf8 column that goes to DuckDB as an ENUM of the union of its values across the flush. */
interface EnumColumnPlan {
  /** The union dictionary: member i is union code i. */
  readonly members: readonly string[];
  /** Bytes per code in DuckDB's ENUM vector: 1 up to 255 members, else 2. */
  readonly codeBytes: 1 | 2;
  /** Per batch; null where the batch has the column all null (or lacks it). */
  readonly codesByBatch: readonly (EnumCodes | null)[];
}

/** Per schema column: an ENUM plan, or null for the column's own DuckDB type (utf8: VARCHAR). */
type ColumnPlan = EnumColumnPlan | null;

/** Decodes members once per flush; `fatal` rejects invalid UTF-8, `ignoreBOM` keeps a leading BOM. */
const UTF8_DECODER = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The members of an ENUM as strings, or null when one is not valid UTF-8 or holds NUL (no ENUM
 * then). Decoded once per flush and column.
 */
function enumMembers(interner: Utf8Dictionary): string[] | null {
  const members: string[] = [];
  for (let code = 0; code < interner.size; code++) {
    const bytes = interner.valueOf(code);
    if (bytes.includes(0)) return null;
    try {
      members.push(UTF8_DECODER.decode(bytes));
    } catch {
      return null;
    }
  }
  return members;
}

/** Maps a dictionary-encoded batch's dictionary to union codes: O(dictionary size). */
function internDictionary(interner: Utf8Dictionary, batch: ColumnBatch, source: ColumnLayout): EnumCodes | null {
  const dictionary = source.dictionary;
  assert.ok(dictionary !== null, 'dictionary-encoded column');
  // size + 1 offsets: index + 1 <= size is inside the view.
  const offsets = new Int32Array(batch.buffer, dictionary.offsets.byteOffset, dictionary.size + 1);
  const data = bytesOf(batch, dictionary.data);
  assert.ok((offsets[dictionary.size] as number) <= data.length, 'dictionary offsets inside its data');
  const remap = new Uint16Array(dictionary.size);
  for (let index = 0; index < dictionary.size; index++) {
    const start = offsets[index] as number;
    const end = offsets[index + 1] as number;
    if (end < start) assert.fail('dictionary offsets ascend');
    const code = interner.add(data, start, end);
    if (code < 0) return null;
    remap[index] = code;
  }
  return { kind: 'remap', remap };
}

/** Hashes a plain utf8 batch's values row by row into union codes: O(bytes). */
function internRows(interner: Utf8Dictionary, batch: ColumnBatch, source: ColumnLayout): EnumCodes | null {
  assert.ok(source.offsets !== null, 'utf8 column has offsets');
  // rowCount + 1 offsets: row + 1 <= rowCount is inside the view.
  const offsets = new Int32Array(batch.buffer, source.offsets.byteOffset, batch.rowCount + 1);
  const data = bytesOf(batch, source.values);
  assert.ok((offsets[batch.rowCount] as number) <= data.length, 'utf8 offsets inside the data');
  const validity = source.validity === null ? null : bytesOf(batch, source.validity);
  const codes = new Uint16Array(batch.rowCount);
  for (let row = 0; row < batch.rowCount; row++) {
    if (validity !== null && !isBitSet(validity, row)) continue;
    const start = offsets[row] as number;
    const end = offsets[row + 1] as number;
    if (end < start) assert.fail('utf8 offsets ascend');
    const code = interner.add(data, start, end);
    if (code < 0) return null;
    codes[row] = code;
  }
  return { kind: 'rows', codes };
}

/**
 * The ENUM plan of one utf8 column, or null when it goes the VARCHAR path: more distinct values
 * (or member bytes) than the limits allow, none at all, or one that an ENUM member cannot hold
 * (NUL, invalid UTF-8).
 */
function planEnumColumn(
  interner: Utf8Dictionary,
  batches: readonly ColumnBatch[],
  sourcesByBatch: readonly (readonly ColumnSource[])[],
  schemaIndex: number,
  membersMax: number,
): EnumColumnPlan | null {
  interner.reset(membersMax);
  const codesByBatch: (EnumCodes | null)[] = [];
  for (const [batchIndex, batch] of batches.entries()) {
    const source = sourcesByBatch[batchIndex]?.[schemaIndex];
    assert.ok(source !== undefined, 'one source per batch and schema column');
    if (source === null) {
      codesByBatch.push(null);
      continue;
    }
    const codes =
      source.dictionary === null
        ? internRows(interner, batch, source)
        : internDictionary(interner, batch, source);
    if (codes === null) return null;
    codesByBatch.push(codes);
  }
  if (interner.size === 0) return null;
  const members = enumMembers(interner);
  if (members === null) return null;
  return { members, codeBytes: members.length <= DUCKDB_ENUM_UINT8_MEMBERS_MAX ? 1 : 2, codesByBatch };
}

/** Which utf8 columns become ENUMs: their union of values is small against the limit and the rows. */
function planColumns(
  interner: Utf8Dictionary,
  batches: readonly ColumnBatch[],
  schema: readonly SchemaColumn[],
  sourcesByBatch: readonly (readonly ColumnSource[])[],
): ColumnPlan[] {
  const rowCount = batches.reduce((sum, batch) => sum + batch.rowCount, 0);
  const membersMax = Math.min(ENCODER_ENUM_MEMBERS_MAX, Math.floor(rowCount / ENCODER_ENUM_ROWS_PER_MEMBER_MIN));
  return schema.map((column, index) =>
    column.type === ColumnType.utf8 && membersMax > 0
      ? planEnumColumn(interner, batches, sourcesByBatch, index, membersMax)
      : null,
  );
}

/**
 * Fills DuckDB data chunks from Arrow-layout batches. Its scratch buffers are reused by every
 * chunk, so the fill loops allocate nothing per row (one subarray per string longer than 12
 * bytes aside).
 *
 * A VARCHAR vector's data is an array of 16-byte `duckdb_string_t`:
 *
 *   inlined (length <= 12):  [ length u32 LE ][ bytes 0..11, zero padded          ]
 *   pointer (length  > 12):  [ length u32 LE ][ prefix 4 bytes ][ char* 8 bytes   ]
 *
 * Short strings (most tag values) are written inlined into scratch and copied with one memcpy;
 * long ones go through `vector_assign_string_element_len`, which copies them into the vector's
 * string heap and writes the pointer form.
 *
 * Bounds: `fill` asserts once per chunk that rows [rowStart, rowStart + rowCount) lie inside the
 * batch and that rowCount fits the scratch buffers (ENCODER_CHUNK_ROWS); each fill loop sizes its
 * views to those rows or asserts its own bound once. The loops then read `as number`, with no
 * check per row.
 */
class ChunkFiller {
  private readonly strings = new Uint8Array(ENCODER_CHUNK_ROWS * DUCKDB_STRING_T_BYTES);
  private readonly stringLengths = new Uint32Array(this.strings.buffer);
  private readonly longRows = new Int32Array(ENCODER_CHUNK_ROWS);
  private readonly doubles = new Float64Array(ENCODER_CHUNK_ROWS);
  private readonly bools = new Uint8Array(ENCODER_CHUNK_ROWS);
  private readonly codes8 = new Uint8Array(ENCODER_CHUNK_ROWS);
  private readonly codes16 = new Uint16Array(ENCODER_CHUNK_ROWS);
  /** All bits 0: the validity of a column that is NULL in every row of a chunk. */
  private readonly invalid = new Uint8Array(ENCODER_CHUNK_ROWS / 8);

  /** Fills `chunk` (already reset) with rows [rowStart, rowStart + rowCount) of `batch`. */
  fill(
    chunk: duckdb.DataChunk,
    batch: ColumnBatch,
    batchIndex: number,
    schema: readonly SchemaColumn[],
    sources: readonly ColumnSource[],
    plans: readonly ColumnPlan[],
    rowStart: number,
    rowCount: number,
  ): void {
    assert.ok(rowCount > 0, 'chunk has rows');
    assert.ok(rowCount <= ENCODER_CHUNK_ROWS, 'chunk rows within vector size');
    assert.ok(rowStart % 8 === 0, 'chunk starts on a validity byte');
    assert.ok(rowStart + rowCount <= batch.rowCount, 'chunk inside batch');
    const timeVector = duckdb.data_chunk_get_vector(chunk, 0);
    duckdb.copy_data_to_vector(timeVector, 0, batch.buffer, batch.time.byteOffset + rowStart * 8, rowCount * 8);
    schema.forEach((target, index) => {
      const vector = duckdb.data_chunk_get_vector(chunk, index + 1);
      const source = sources[index];
      const plan = plans[index];
      assert.ok(source !== undefined, 'one source per schema column');
      assert.ok(plan !== undefined, 'one plan per schema column');
      if (source === null) {
        this.fillNull(vector, plan === null ? target.type : plan.codeBytes, rowCount);
        return;
      }
      if (plan === null) this.fillColumn(vector, batch, target.type, source, rowStart, rowCount);
      else this.fillEnum(vector, batch, source, plan, batchIndex, rowStart, rowCount);
      this.copyValidity(vector, batch, source, rowStart, rowCount);
    });
    duckdb.data_chunk_set_size(chunk, rowCount);
  }

  private fillColumn(
    vector: duckdb.Vector,
    batch: ColumnBatch,
    targetType: ColumnType,
    source: ColumnLayout,
    rowStart: number,
    rowCount: number,
  ): void {
    switch (targetType) {
      case ColumnType.int64:
      case ColumnType.uint64:
        this.copyWords(vector, batch, source, rowStart, rowCount);
        break;
      case ColumnType.float64:
        if (source.type === ColumnType.int64) this.fillInt64AsDouble(vector, batch, source, rowStart, rowCount);
        else this.copyWords(vector, batch, source, rowStart, rowCount);
        break;
      case ColumnType.bool:
        this.fillBool(vector, batch, source, rowStart, rowCount);
        break;
      case ColumnType.utf8:
        this.fillUtf8(vector, batch, source, rowStart, rowCount);
        break;
    }
  }

  private copyValidity(vector: duckdb.Vector, batch: ColumnBatch, source: ColumnLayout, rowStart: number, rowCount: number): void {
    if (source.validity === null) return;
    // Arrow validity (bytes, LSB first, 1 = valid) has the byte layout of DuckDB's little-endian
    // uint64 validity words, and chunks start at multiples of 8 rows: a plain byte copy.
    duckdb.vector_ensure_validity_writable(vector);
    const validityStart = source.validity.byteOffset + rowStart / 8;
    duckdb.copy_data_to_vector_validity(vector, 0, batch.buffer, validityStart, Math.ceil(rowCount / 8));
  }

  /** `type` is the column's type, or the code width of an ENUM column. */
  private fillNull(vector: duckdb.Vector, type: ColumnType | 1 | 2, rowCount: number): void {
    duckdb.vector_ensure_validity_writable(vector);
    duckdb.copy_data_to_vector_validity(vector, 0, this.invalid.buffer, 0, Math.ceil(rowCount / 8));
    if (type === 1 || type === 2) {
      // Code 0 is a member: NULL slots never hold a code outside the ENUM.
      this.codes16.fill(0, 0, rowCount);
      duckdb.copy_data_to_vector(vector, 0, this.codes16.buffer, 0, rowCount * type);
      return;
    }
    if (type !== ColumnType.utf8) return;
    // Leave no stale string pointers behind in NULL slots.
    this.strings.fill(0, 0, rowCount * DUCKDB_STRING_T_BYTES);
    duckdb.copy_data_to_vector(vector, 0, this.strings.buffer, 0, rowCount * DUCKDB_STRING_T_BYTES);
  }

  /**
   * ENUM codes: a plain batch's per-row union codes are copied as they are (or narrowed to
   * uint8); a dictionary batch's int32 codes go through its remap to union codes.
   */
  private fillEnum(
    vector: duckdb.Vector,
    batch: ColumnBatch,
    source: ColumnLayout,
    plan: EnumColumnPlan,
    batchIndex: number,
    rowStart: number,
    rowCount: number,
  ): void {
    const codes = plan.codesByBatch[batchIndex];
    assert.ok(codes !== undefined, 'one code source per batch');
    assert.ok(codes !== null, 'a batch with values has codes');
    if (codes.kind === 'rows' && plan.codeBytes === 2) {
      duckdb.copy_data_to_vector(vector, 0, codes.codes.buffer, codes.codes.byteOffset + rowStart * 2, rowCount * 2);
      return;
    }
    const out = plan.codeBytes === 1 ? this.codes8 : this.codes16;
    if (codes.kind === 'rows') {
      // codes.codes holds a code per row of the batch; the chunk lies inside the batch.
      for (let row = 0; row < rowCount; row++) out[row] = codes.codes[rowStart + row] as number;
    } else {
      const batchCodes = new Int32Array(batch.buffer, source.values.byteOffset + rowStart * 4, rowCount);
      const remap = codes.remap;
      for (let row = 0; row < rowCount; row++) {
        const code = batchCodes[row] as number;
        if (code >>> 0 >= remap.length) assert.fail('dictionary code within the dictionary');
        out[row] = remap[code] as number;
      }
    }
    duckdb.copy_data_to_vector(vector, 0, out.buffer, 0, rowCount * plan.codeBytes);
  }

  /** int64 and float64 values (8 bytes each, little-endian) are DuckDB's BIGINT and DOUBLE layout. */
  private copyWords(vector: duckdb.Vector, batch: ColumnBatch, source: ColumnLayout, rowStart: number, rowCount: number): void {
    assert.ok(source.values.byteLength >= (rowStart + rowCount) * 8, 'values cover the chunk');
    duckdb.copy_data_to_vector(vector, 0, batch.buffer, source.values.byteOffset + rowStart * 8, rowCount * 8);
  }

  private fillInt64AsDouble(
    vector: duckdb.Vector,
    batch: ColumnBatch,
    source: ColumnLayout,
    rowStart: number,
    rowCount: number,
  ): void {
    const words = new Int32Array(batch.buffer, source.values.byteOffset + rowStart * 8, rowCount * 2);
    for (let row = 0; row < rowCount; row++) {
      // Both terms are exact doubles, so the sum is rounded once: the nearest double to the int64.
      this.doubles[row] = (words[row * 2 + 1] as number) * 4294967296 + ((words[row * 2] as number) >>> 0);
    }
    duckdb.copy_data_to_vector(vector, 0, this.doubles.buffer, 0, rowCount * 8);
  }

  /** Arrow booleans are one bit per value; DuckDB's BOOLEAN vector holds one byte per value. */
  private fillBool(vector: duckdb.Vector, batch: ColumnBatch, source: ColumnLayout, rowStart: number, rowCount: number): void {
    assert.ok(source.values.byteLength * 8 >= rowStart + rowCount, 'bitmap covers the chunk');
    const bitmap = new Uint8Array(batch.buffer, source.values.byteOffset, source.values.byteLength);
    for (let row = 0; row < rowCount; row++) {
      const bit = rowStart + row;
      this.bools[row] = ((bitmap[bit >>> 3] as number) >>> (bit & 7)) & 1; // bitmap covers the chunk
    }
    duckdb.copy_data_to_vector(vector, 0, this.bools.buffer, 0, rowCount);
  }

  /**
   * Strings into `duckdb_string_t` slots. A dictionary-encoded batch (its column went the VARCHAR
   * path) is materialized through its codes: row i is dictionary value codes[i].
   */
  private fillUtf8(vector: duckdb.Vector, batch: ColumnBatch, source: ColumnLayout, rowStart: number, rowCount: number): void {
    const dictionary = source.dictionary;
    const offsetsRange = dictionary === null ? source.offsets : dictionary.offsets;
    assert.ok(offsetsRange !== null, 'utf8 column has offsets');
    const valueCount = dictionary === null ? batch.rowCount : dictionary.size;
    const offsets = new Int32Array(batch.buffer, offsetsRange.byteOffset, valueCount + 1);
    const data = bytesOf(batch, dictionary === null ? source.values : dictionary.data);
    assert.ok((offsets[valueCount] as number) <= data.length, 'utf8 offsets inside the data');
    const codes = dictionary === null ? null : new Int32Array(batch.buffer, source.values.byteOffset + rowStart * 4, rowCount);
    this.strings.fill(0, 0, rowCount * DUCKDB_STRING_T_BYTES);
    let longCount = 0;
    for (let row = 0; row < rowCount; row++) {
      const value = codes === null ? rowStart + row : (codes[row] as number);
      if (value >>> 0 >= valueCount) assert.fail('dictionary code within the dictionary');
      // value < valueCount, and offsets holds valueCount + 1 entries.
      const start = offsets[value] as number;
      const byteLength = (offsets[value + 1] as number) - start;
      if (byteLength > DUCKDB_STRING_INLINE_BYTES_MAX) {
        this.longRows[longCount++] = row;
        continue;
      }
      const slot = row * DUCKDB_STRING_T_BYTES;
      this.stringLengths[slot >>> 2] = byteLength;
      // start + byteLength <= offsets[valueCount] <= data.length (asserted above, offsets ascend).
      for (let byte = 0; byte < byteLength; byte++) this.strings[slot + 4 + byte] = data[start + byte] as number;
    }
    duckdb.copy_data_to_vector(vector, 0, this.strings.buffer, 0, rowCount * DUCKDB_STRING_T_BYTES);
    for (let index = 0; index < longCount; index++) {
      const row = this.longRows[index] as number; // index < longCount <= rowCount
      const value = codes === null ? rowStart + row : (codes[row] as number);
      const start = offsets[value] as number;
      const end = offsets[value + 1] as number;
      duckdb.vector_assign_string_element_len(vector, row, data.subarray(start, end));
    }
  }
}

/** `path` is undefined when the failure came before the first file (appending to the scratch table). */
function writeFailed(measurement: string, path: string | undefined, cause: unknown): ArcError {
  const where = path === undefined ? `measurement '${measurement}'` : `measurement '${measurement}' to '${path}'`;
  const details = path === undefined ? { measurement } : { measurement, path };
  if (isStorageFull(cause)) return storageFullError(`writing Parquet for ${where}`, cause, details);
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new ArcError(ErrorKind.internal, WriterErrorCode.parquetWriteFailed, `Writing Parquet for ${where} failed: ${reason}`, details);
}

export class ParquetEncoder {
  private readonly options: ParquetEncoderOptions;
  private readonly instance: DuckDBInstance;
  private readonly connection: DuckDBConnection;
  private readonly filler = new ChunkFiller();
  /** The distinct values of the column being planned (ENUM members), reused by every column and flush. */
  private readonly interner = new Utf8Dictionary(ENCODER_ENUM_MEMBERS_MAX, ENCODER_ENUM_UNION_BYTES_MAX);
  private encoding = false;
  private closed = false;
  /** A second connection for memory reads (memoryBytes), so they never interleave with an encode's statements. */
  private statsConnection: DuckDBConnection | null = null;
  private timings: EncodeTimings = { planMs: 0, appendMs: 0, copyMs: 0, syncMs: 0, enumColumnCount: 0 };

  private constructor(options: ParquetEncoderOptions, instance: DuckDBInstance, connection: DuckDBConnection) {
    this.options = options;
    this.instance = instance;
    this.connection = connection;
  }

  static async create(options: ParquetEncoderOptions): Promise<ParquetEncoder> {
    assert.ok(Number.isInteger(options.threads), 'threads is an integer');
    assert.ok(options.threads >= 1, 'threads at least 1');
    assert.ok(options.threads <= ENCODER_THREADS_MAX, 'threads within limit');
    assert.ok(Number.isInteger(options.rowGroupSize), 'row group size is an integer');
    assert.ok(options.rowGroupSize > 0, 'row group size positive');
    assert.ok(Object.values(ParquetCompression).includes(options.compression), 'known compression');
    assert.equal(duckdb.vector_size(), ENCODER_CHUNK_ROWS, 'chunk rows equal DuckDB vector size');
    const instance = await DuckDBInstance.create(':memory:', {
      threads: String(options.threads),
      memory_limit: options.memoryLimit ?? ENCODER_MEMORY_LIMIT_DEFAULT,
      temp_directory: options.tempDirectory,
      preserve_insertion_order: 'true',
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
    });
    const connection = await instance.connect();
    // Set explicitly, and by SET rather than as a startup option: DuckDB (1.5.6) shows a startup
    // max_temp_directory_size in current_setting() but does not hand it to its buffer manager,
    // which then computes 90% of the free space of the temp directory's disk when it first
    // spills and keeps that for the instance's life. A first spill while the disk was full froze
    // the limit at ~100 KiB and every later flush failed, even after space was freed (tested in
    // parquet-encoder-temp-directory.test.ts and the disk-full fault tests).
    await connection.run(`SET max_temp_directory_size = ${quoteLiteral(options.tempDirectorySizeMax ?? ENCODER_TEMP_DIRECTORY_SIZE_MAX)}`);
    // TimeZone belongs to the built-in ICU extension, so it is not a startup option. Nothing here
    // converts time zones; it is set so this instance agrees with the query instances.
    await connection.run("SET TimeZone = 'UTC'");
    return new ParquetEncoder(options, instance, connection);
  }

  get lastTimings(): EncodeTimings {
    return this.timings;
  }

  /**
   * All batches are of one (database, measurement); `schema` is their merged schema (mergeSchema).
   * Writes one Parquet file per UTC hour of the rows' time to `pathForHour(hourStartUs)` (a temp
   * path the caller later renames; its directory is created), sorted by time, and fsyncs each
   * file before resolving. On failure the files written so far are removed and the promise
   * rejects with an ArcError `ARC_STORAGE_FULL` (no room on the disk) or `ARC_PARQUET_WRITE_FAILED`
   * (anything else); the caller keeps its rows and retries.
   * A batch that breaks its layout (a dictionary code outside its dictionary, offsets past the
   * data) rejects with the AssertionError instead: retrying cannot fix it.
   */
  async encode(
    batches: readonly ColumnBatch[],
    schema: readonly SchemaColumn[],
    pathForHour: (hourStartUs: number) => string,
  ): Promise<EncodedHourFile[]> {
    assert.ok(!this.closed, 'encoder is open');
    assert.ok(!this.encoding, 'one encode at a time');
    const hours = hoursOf(batches);
    if (hours.length === 0) return [];
    const first = batches[0];
    assert.ok(first !== undefined, 'hours come from the rows of some batch');
    const measurement = first.measurement;
    for (const batch of batches) assert.equal(batch.measurement, measurement, 'one measurement per encode');
    this.encoding = true;
    const paths: string[] = [];
    try {
      return await this.encodeHours(batches, schema, hours, pathForHour, paths);
    } catch (error) {
      await this.discard(paths);
      // A broken invariant (a batch off its documented layout) is a bug to surface, not a write
      // failure to retry.
      if (error instanceof assert.AssertionError) throw error;
      throw error instanceof ArcError ? error : writeFailed(measurement, paths.at(-1), error);
    } finally {
      this.encoding = false;
    }
  }

  /** Bytes DuckDB's buffer manager holds for this encoder now (the writer's arc_duckdb_memory_bytes). */
  async memoryBytes(): Promise<number> {
    assert.ok(!this.closed, 'encoder is open');
    this.statsConnection ??= await this.instance.connect();
    const row = (await this.statsConnection.runAndReadAll(DUCKDB_MEMORY_SQL)).getRowsJS()[0];
    return Number(row?.[0] ?? 0);
  }

  close(): void {
    assert.ok(!this.encoding, 'no encode in flight');
    if (this.closed) return;
    this.closed = true;
    this.statsConnection?.closeSync();
    this.connection.closeSync();
    this.instance.closeSync();
  }

  private async encodeHours(
    batches: readonly ColumnBatch[],
    schema: readonly SchemaColumn[],
    hours: readonly number[],
    pathForHour: (hourStartUs: number) => string,
    paths: string[],
  ): Promise<EncodedHourFile[]> {
    const planStart = performance.now();
    const sourcesByBatch = batches.map((batch) => sourcesOf(batch, schema));
    const plans = planColumns(this.interner, batches, schema, sourcesByBatch);
    const appendStart = performance.now();
    await this.createScratch(schema, plans);
    await this.appendBatches(batches, schema, sourcesByBatch, plans);
    const copyStart = performance.now();
    const copyOptions = copyOptionsSql(this.options, schema);
    const appendedInOrder = isInTimeOrder(batches);
    const copied: Omit<EncodedHourFile, 'byteCount'>[] = [];
    for (const hourStartUs of hours) {
      const path = pathForHour(hourStartUs);
      paths.push(path);
      const sql = copyHourSql(hourStartUs, path, copyOptions, appendedInOrder, hours.length === 1);
      const reader = await this.connection.runAndReadAll(sql);
      copied.push({ hourStartUs, path, rowCount: reader.rowsChanged });
    }
    await this.connection.run(dropScratchSql());
    const syncStart = performance.now();
    const files: EncodedHourFile[] = [];
    for (const file of copied) files.push({ ...file, byteCount: await this.options.staged.sealStaged(file.path) });
    const syncEnd = performance.now();
    this.timings = {
      planMs: appendStart - planStart,
      appendMs: copyStart - appendStart,
      copyMs: syncStart - copyStart,
      syncMs: syncEnd - syncStart,
      enumColumnCount: plans.filter((plan) => plan !== null).length,
    };
    const rowsIn = batches.reduce((sum, batch) => sum + batch.rowCount, 0);
    assert.equal(files.reduce((sum, file) => sum + file.rowCount, 0), rowsIn, 'every row is in exactly one hour file');
    return files;
  }

  /**
   * After a failure. Best effort: a partial temp file must not be renamed by mistake, and the
   * table's memory is freed; failing at either (the directory is the problem, the connection is
   * gone) must not hide the error that matters. The next encode drops the scratch anyway.
   */
  private async discard(paths: readonly string[]): Promise<void> {
    const removals = paths.map((path) => this.options.staged.discard(path));
    await Promise.allSettled([...removals, this.connection.run(dropScratchSql())]);
  }

  /** The scratch schema, one ENUM type per ENUM column, and the table. */
  private async createScratch(schema: readonly SchemaColumn[], plans: readonly ColumnPlan[]): Promise<void> {
    await this.connection.run(dropScratchSql());
    await this.connection.run(`CREATE SCHEMA ${quoteIdentifier(ENCODER_SCHEMA_NAME)}`);
    for (const [index, plan] of plans.entries()) {
      if (plan !== null) await this.connection.run(createEnumSql(index, plan.members));
    }
    await this.connection.run(createTableSql(schema, plans));
  }

  private async appendBatches(
    batches: readonly ColumnBatch[],
    schema: readonly SchemaColumn[],
    sourcesByBatch: readonly (readonly ColumnSource[])[],
    plans: readonly ColumnPlan[],
  ): Promise<void> {
    const chunk = duckdb.create_data_chunk(chunkTypes(schema, plans));
    const wrapped = new DuckDBDataChunk(chunk);
    const appender: DuckDBAppender = await this.connection.createAppender(ENCODER_TABLE_NAME, ENCODER_SCHEMA_NAME);
    let chunksSinceYield = 0;
    try {
      for (const [batchIndex, batch] of batches.entries()) {
        const sources = sourcesByBatch[batchIndex];
        assert.ok(sources !== undefined, 'sources per batch');
        for (let rowStart = 0; rowStart < batch.rowCount; rowStart += ENCODER_CHUNK_ROWS) {
          duckdb.data_chunk_reset(chunk);
          const rowCount = Math.min(ENCODER_CHUNK_ROWS, batch.rowCount - rowStart);
          this.filler.fill(chunk, batch, batchIndex, schema, sources, plans, rowStart, rowCount);
          appender.appendDataChunk(wrapped);
          if (++chunksSinceYield === ENCODER_YIELD_EVERY_CHUNKS) {
            chunksSinceYield = 0;
            // The writer thread answers decoders between chunks instead of after the whole flush.
            await new Promise<void>((resolve) => setImmediate(resolve));
          }
        }
      }
      appender.flushSync();
    } catch (error) {
      // Closing flushes: drop what is buffered so the close cannot fail on the same rows.
      appender.clear();
      throw error;
    } finally {
      appender.closeSync();
    }
  }
}

/** Logical types of the appended chunks: the table's, the same ENUM members in the same order. */
function chunkTypes(schema: readonly SchemaColumn[], plans: readonly ColumnPlan[]): duckdb.LogicalType[] {
  const types = [duckdb.create_logical_type(duckdb.Type.TIMESTAMP)];
  schema.forEach((column, index) => {
    const plan = plans[index];
    if (plan === undefined || plan === null) {
      types.push(duckdb.create_logical_type(DUCKDB_TYPE_BY_COLUMN_TYPE[column.type]));
      return;
    }
    const type = duckdb.create_enum_type(plan.members);
    const internal = plan.codeBytes === 1 ? duckdb.Type.UTINYINT : duckdb.Type.USMALLINT;
    assert.equal(duckdb.enum_internal_type(type), internal, 'ENUM code width as planned');
    types.push(type);
  });
  return types;
}
