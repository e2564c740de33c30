import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import duckdb from '@duckdb/node-bindings';
import { DUCKDB_MEMORY_SQL } from '@arc/telemetry';
import {
  BIGINT,
  BOOLEAN,
  DOUBLE,
  ENUM,
  INTEGER,
  TIMESTAMP,
  UBIGINT,
  VARCHAR,
  DuckDBInstance,
  DuckDBTableFunction,
  type DuckDBConnection,
  type DuckDBType,
} from '@duckdb/node-api';
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
  ENCODER_ENUM_MEMBERS_MAX,
  ENCODER_ENUM_ROWS_PER_MEMBER_MIN,
  ENCODER_ENUM_UNION_BYTES_MAX,
  ENCODER_MEMORY_LIMIT_DEFAULT,
  ENCODER_SCAN_FUNCTION_NAME,
  ENCODER_SCAN_SEQUENCE_COLUMN,
  ENCODER_TEMP_DIRECTORY_SIZE_MAX,
  ENCODER_THREADS_MAX,
  SEAL_CONCURRENCY_MAX,
  ZSTD_COMPRESSION_LEVEL,
} from './limits.js';
import { WriterErrorCode } from './error-codes.js';

/**
 * Parquet encoding through DuckDB (docs/decisions.md). One encoder owns one in-memory DuckDB
 * instance with a table function (`arc_flush_scan`) that hands DuckDB the flush's Arrow-layout
 * batches chunk by chunk, filled by raw vector copies (memcpy of time, int64 and float64 values
 * and of validity bitmaps); one `COPY (SELECT ... FROM arc_flush_scan() ...) TO` per UTC hour
 * streams them into a Parquet file, so the rows are never stored in a DuckDB table first
 * (docs/decisions.md, "The flush scans the batches"). A utf8 column with few distinct values
 * across the flush becomes an ENUM of their union (uint8/uint16 codes); COPY writes it as a plain
 * UTF8 string column, so readers see VARCHAR either way.
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
  /** Filling DuckDB's chunks from the batches (the scan's callbacks on this thread, summed). */
  readonly appendMs: number;
  /** The COPY statements without the fills: sort when needed, Parquet encoding, write. */
  readonly copyMs: number;
  /** fsync and stat of the written files. */
  readonly syncMs: number;
  /** utf8 columns of the flush that went to DuckDB as ENUM (the rest as VARCHAR). */
  readonly enumColumnCount: number;
  /** The COPY sorted the rows: no order of whole batches put them in time order (timeOrderedBatches). */
  readonly sorted: boolean;
}

const SQL_TYPE_BY_COLUMN_TYPE = {
  [ColumnType.int64]: 'BIGINT',
  [ColumnType.uint64]: 'UBIGINT',
  [ColumnType.float64]: 'DOUBLE',
  [ColumnType.utf8]: 'VARCHAR',
  [ColumnType.bool]: 'BOOLEAN',
} as const;

const SCAN_TYPE_BY_COLUMN_TYPE: Record<ColumnType, DuckDBType> = {
  [ColumnType.int64]: BIGINT,
  [ColumnType.uint64]: UBIGINT,
  [ColumnType.float64]: DOUBLE,
  [ColumnType.utf8]: VARCHAR,
  [ColumnType.bool]: BOOLEAN,
};

/**
 * The columns (name and SQL type) a Parquet file of this schema has, in file order: what a query
 * sees of a measurement whose rows are still buffered.
 */
export function parquetColumnsOf(schema: readonly SchemaColumn[]): { name: string; type: string }[] {
  return [{ name: TIME_COLUMN, type: 'TIMESTAMP' }, ...schema.map((column) => ({ name: column.name, type: SQL_TYPE_BY_COLUMN_TYPE[column.type] }))];
}

/**
 * The scan's columns in output order. `time` is TIMESTAMP (naive, microseconds), not TIMESTAMPTZ:
 * the values are UTC instants, and Parquet then holds timestamp[us] with isAdjustedToUTC=false,
 * which every reader maps to a plain timestamp without applying a session time zone. Query
 * instances run with TimeZone='UTC'. An ENUM column's type holds its members (no CREATE TYPE: the
 * values never reach a catalog). With `sequenceColumn`, a last INTEGER column numbers the rows in
 * append order (the sort's tie-breaker).
 */
function scanColumnsOf(schema: readonly SchemaColumn[], plans: readonly ColumnPlan[], sequenceColumn: string | null): { name: string; type: DuckDBType }[] {
  const columns = [{ name: TIME_COLUMN, type: TIMESTAMP as DuckDBType }];
  schema.forEach((column, index) => {
    assert.notEqual(column.name.toLowerCase(), TIME_COLUMN, 'time is never a tag or field');
    const plan = plans[index];
    columns.push({ name: column.name, type: plan === undefined || plan === null ? SCAN_TYPE_BY_COLUMN_TYPE[column.type] : ENUM(plan.members) });
  });
  if (sequenceColumn !== null) columns.push({ name: sequenceColumn, type: INTEGER });
  return columns;
}

/** A name for the sequence column that no column of the schema has (DuckDB compares names case-insensitively). */
function sequenceColumnFor(schema: readonly SchemaColumn[]): string {
  const taken = new Set(schema.map((column) => column.name.toLowerCase()));
  let name = ENCODER_SCAN_SEQUENCE_COLUMN;
  while (taken.has(name)) name += '_';
  return name;
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
 * stable, so ties are ordered by the scan's sequence column (`sequenceColumn`, the append
 * position), which the file leaves out. Compaction's deduplication takes a later row of one file
 * as the later write (packages/compaction, merge-sql.ts), so a flush must not swap two writes of
 * one point. When the batches are in time order, or can be put in it whole (the usual case:
 * clients send in order; timeOrderedBatches), there is no sort (`sequenceColumn` null): with
 * `preserve_insertion_order` (set at create) the scan's order is the file's, and the sort costs
 * 2-3x the whole COPY on one thread. When every
 * row is of this hour (the usual flush) the time filter is left out too: it would select every row
 * anyway, and evaluating it costs ~10-20% of the COPY.
 */
function copyHourSql(hourStartUs: number, path: string, copyOptions: string, sequenceColumn: string | null, onlyHour: boolean): string {
  const time = quoteIdentifier(TIME_COLUMN);
  const filter = onlyHour
    ? ''
    : ` WHERE ${time} >= make_timestamp(${hourStartUs}::BIGINT) ` +
      `AND ${time} < make_timestamp(${hourStartUs + MICROS_PER_HOUR}::BIGINT)`;
  const scan = `${quoteIdentifier(ENCODER_SCAN_FUNCTION_NAME)}()`;
  const select =
    sequenceColumn === null
      ? `SELECT * FROM ${scan}${filter}`
      : `SELECT * EXCLUDE (${quoteIdentifier(sequenceColumn)}) FROM ${scan}${filter} ORDER BY ${time}, ${quoteIdentifier(sequenceColumn)}`;
  return `COPY (${select}) TO ${quoteLiteral(path)} (${copyOptions})`;
}

/**
 * The batches in an order whose rows never go back in time while rows of equal time keep their
 * append order, or null when no order of whole batches does that (the COPY then sorts row by
 * row). Requests reach a writer from several decoders, so batches that are each in time order and
 * cover disjoint times (a client sending in order) usually arrive a little shuffled: putting them
 * back by their first time costs a sort of the batch list instead of DuckDB's sort of every row,
 * which takes 2-3x the rest of the COPY. Batches are ordered by their first time, ties in append
 * order; a batch may move ahead of one appended before it only if all its times are earlier
 * (strictly), so no two writes of one time are swapped. Times beyond ±2^53 µs are not exact as
 * doubles, so a flush holding one is always sorted (null).
 */
export function timeOrderedBatches(batches: readonly ColumnBatch[]): ColumnBatch[] | null {
  const positions: number[] = [];
  for (const [position, batch] of batches.entries()) {
    if (batch.rowCount === 0) continue;
    if (Math.max(-batch.timeMinUs, batch.timeMaxUs) > TIME_MICROS_ABS_MAX) return null;
    if (!isBatchInTimeOrder(batch)) return null;
    positions.push(position);
  }
  const batchAt = (position: number): ColumnBatch => {
    const batch = batches[position];
    assert.ok(batch !== undefined, 'positions index the batches');
    return batch;
  };
  // Array.prototype.sort is stable: equal first times stay in append order.
  positions.sort((left, right) => batchAt(left).timeMinUs - batchAt(right).timeMinUs);
  for (let index = 1; index < positions.length; index++) {
    const before = positions[index - 1] as number; // index - 1 < positions.length
    const after = positions[index] as number;
    const boundaryUs = batchAt(before).timeMaxUs;
    const nextUs = batchAt(after).timeMinUs;
    // Consecutive pairs suffice: an equal time shared by batches further apart is shared by every
    // batch between them, and somewhere along that run a later append would precede an earlier one.
    if (boundaryUs > nextUs || (boundaryUs === nextUs && before > after)) return null;
  }
  return positions.map(batchAt);
}

/** True when the batch's rows never go back in time (its bounds are exact doubles). */
function isBatchInTimeOrder(batch: ColumnBatch): boolean {
  if (batch.timeMinUs === batch.timeMaxUs) return true;
  const pairs = timePairsOf(batch);
  for (let row = 1; row < batch.rowCount; row++) {
    if (timeMicrosAt(pairs, row) < timeMicrosAt(pairs, row - 1)) return false;
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
  private readonly sequence = new Int32Array(ENCODER_CHUNK_ROWS);

  /** The sequence column (INTEGER): `firstRow`, `firstRow + 1`, ... for the chunk's rows. */
  fillSequence(vector: duckdb.Vector, firstRow: number, rowCount: number): void {
    assert.ok(rowCount <= ENCODER_CHUNK_ROWS, 'chunk rows within vector size');
    assert.ok(firstRow + rowCount <= 2 ** 31 - 1, 'sequence fits INTEGER');
    for (let row = 0; row < rowCount; row++) this.sequence[row] = firstRow + row;
    duckdb.copy_data_to_vector(vector, 0, this.sequence.buffer, 0, rowCount * 4);
  }

  /** Fills `chunk` (fresh from DuckDB) with rows [rowStart, rowStart + rowCount) of `batch`. */
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

/** `path` is undefined when the failure came before the first file was begun. */
function writeFailed(measurement: string, path: string | undefined, cause: unknown): ArcError {
  const where = path === undefined ? `measurement '${measurement}'` : `measurement '${measurement}' to '${path}'`;
  const details = path === undefined ? { measurement } : { measurement, path };
  if (isStorageFull(cause)) return storageFullError(`writing Parquet for ${where}`, cause, details);
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new ArcError(ErrorKind.internal, WriterErrorCode.parquetWriteFailed, `Writing Parquet for ${where} failed: ${reason}`, details);
}

/**
 * What the scan hands DuckDB during one COPY: the flush's batches, restricted to those that may
 * hold rows of `hourStartUs` when the flush spans several hours (the COPY's filter drops the
 * others' rows), and where the scan is.
 */
interface FlushScan {
  readonly batches: readonly ColumnBatch[];
  readonly schema: readonly SchemaColumn[];
  readonly sourcesByBatch: readonly (readonly ColumnSource[])[];
  readonly plans: readonly ColumnPlan[];
  readonly columns: readonly { name: string; type: DuckDBType }[];
  /** The sort's tie-breaker column, or null when the rows are in time order (no sort). */
  readonly sequenceColumn: string | null;
  /** Only batches that may hold rows of this hour are scanned; null: every batch. */
  hourStartUs: number | null;
  batchIndex: number;
  rowStart: number;
  /** Rows of the batches before `batchIndex` (the sequence number of its first row). */
  rowsBefore: number;
  /** Milliseconds spent filling chunks (EncodeTimings.appendMs). */
  fillMs: number;
  /** What a callback threw: DuckDB only gets its message, the encode rethrows it. */
  failure: unknown;
}

/** True when the batch may hold a row of the hour (exact for times within ±2^53 µs). */
function mayHoldHour(batch: ColumnBatch, hourStartUs: number): boolean {
  if (batch.rowCount === 0) return false;
  if (Math.max(-batch.timeMinUs, batch.timeMaxUs) > TIME_MICROS_ABS_MAX) return true;
  return hourStartMicros(batch.timeMinUs) <= hourStartUs && hourStartUs <= hourStartMicros(batch.timeMaxUs);
}

export class ParquetEncoder {
  private readonly options: ParquetEncoderOptions;
  private readonly instance: DuckDBInstance;
  private readonly connection: DuckDBConnection;
  private readonly filler = new ChunkFiller();
  /** The distinct values of the column being planned (ENUM members), reused by every column and flush. */
  private readonly interner = new Utf8Dictionary(ENCODER_ENUM_MEMBERS_MAX, ENCODER_ENUM_UNION_BYTES_MAX);
  /** The scan of the COPY running now (one encode, one COPY at a time); null between COPYs. */
  private scan: FlushScan | null = null;
  private encoding = false;
  private closed = false;
  /** A second connection for memory reads (memoryBytes), so they never interleave with an encode's statements. */
  private statsConnection: DuckDBConnection | null = null;
  private timings: EncodeTimings = { planMs: 0, appendMs: 0, copyMs: 0, syncMs: 0, enumColumnCount: 0, sorted: false };

  private constructor(options: ParquetEncoderOptions, instance: DuckDBInstance, connection: DuckDBConnection) {
    this.options = options;
    this.instance = instance;
    this.connection = connection;
    connection.registerTableFunction(
      DuckDBTableFunction.create({
        name: ENCODER_SCAN_FUNCTION_NAME,
        bindFunction: (info) => {
          const scan = this.scan;
          if (scan === null) {
            info.setError(`${ENCODER_SCAN_FUNCTION_NAME} is the encoder's own and runs only inside a flush`);
            return;
          }
          for (const column of scan.columns) info.addResultColumn(column.name, column.type);
        },
        initFunction: () => {
          const scan = this.scan;
          if (scan === null) return;
          scan.batchIndex = 0;
          scan.rowStart = 0;
          scan.rowsBefore = 0;
        },
        mainFunction: (info, output) => {
          const scan = this.scan;
          try {
            assert.ok(scan !== null, 'a scan runs inside a flush');
            output.rowCount = this.fillNext(scan, output.chunk);
          } catch (error) {
            if (scan !== null) scan.failure ??= error;
            info.setError(error instanceof Error ? error.message : String(error));
          }
        },
      }),
    );
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
      // A callback's own error: DuckDB saw only its message.
      const cause = this.scan?.failure ?? error;
      await this.discard(paths);
      // A broken invariant (a batch off its documented layout) is a bug to surface, not a write
      // failure to retry.
      if (cause instanceof assert.AssertionError) throw cause;
      throw cause instanceof ArcError ? cause : writeFailed(measurement, paths.at(-1), cause);
    } finally {
      this.scan = null;
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
    const ordered = timeOrderedBatches(batches);
    // Sorted by the COPY: the scan keeps append order, which its sequence column numbers.
    const scanned = ordered ?? batches;
    const sourcesByBatch = scanned.map((batch) => sourcesOf(batch, schema));
    const plans = planColumns(this.interner, scanned, schema, sourcesByBatch);
    for (const plan of plans) {
      if (plan === null) continue;
      const internal = plan.codeBytes === 1 ? duckdb.Type.UTINYINT : duckdb.Type.USMALLINT;
      assert.equal(duckdb.enum_internal_type(ENUM(plan.members).toLogicalType().logical_type), internal, 'ENUM code width as planned');
    }
    const sequenceColumn = ordered === null ? sequenceColumnFor(schema) : null;
    const scan: FlushScan = {
      batches: scanned,
      schema,
      sourcesByBatch,
      plans,
      columns: scanColumnsOf(schema, plans, sequenceColumn),
      sequenceColumn,
      hourStartUs: null,
      batchIndex: 0,
      rowStart: 0,
      rowsBefore: 0,
      fillMs: 0,
      failure: undefined,
    };
    this.scan = scan;
    const copyStart = performance.now();
    const copyOptions = copyOptionsSql(this.options, schema);
    const copied: Omit<EncodedHourFile, 'byteCount'>[] = [];
    for (const hourStartUs of hours) {
      const path = pathForHour(hourStartUs);
      paths.push(path);
      scan.hourStartUs = hours.length === 1 ? null : hourStartUs;
      const sql = copyHourSql(hourStartUs, path, copyOptions, sequenceColumn, hours.length === 1);
      const reader = await this.connection.runAndReadAll(sql);
      copied.push({ hourStartUs, path, rowCount: reader.rowsChanged });
    }
    this.scan = null;
    const syncStart = performance.now();
    const files = await this.sealAll(copied);
    const syncEnd = performance.now();
    this.timings = {
      planMs: copyStart - planStart,
      appendMs: scan.fillMs,
      copyMs: syncStart - copyStart - scan.fillMs,
      syncMs: syncEnd - syncStart,
      enumColumnCount: plans.filter((plan) => plan !== null).length,
      sorted: sequenceColumn !== null,
    };
    const rowsIn = batches.reduce((sum, batch) => sum + batch.rowCount, 0);
    assert.equal(files.reduce((sum, file) => sum + file.rowCount, 0), rowsIn, 'every row is in exactly one hour file');
    return files;
  }

  /**
   * The scan's step: fills `chunk` with the next rows (at most one vector, within one batch) and
   * returns how many; 0 ends the scan. Runs on this thread, called by DuckDB once per chunk, so
   * the thread serves decoders between chunks.
   */
  private fillNext(scan: FlushScan, chunk: duckdb.DataChunk): number {
    const started = performance.now();
    for (;;) {
      const batch = scan.batches[scan.batchIndex];
      if (batch === undefined) return 0;
      const hourStartUs = scan.hourStartUs;
      if (scan.rowStart >= batch.rowCount || (hourStartUs !== null && !mayHoldHour(batch, hourStartUs))) {
        scan.rowsBefore += batch.rowCount;
        scan.batchIndex++;
        scan.rowStart = 0;
        continue;
      }
      const sources = scan.sourcesByBatch[scan.batchIndex];
      assert.ok(sources !== undefined, 'sources per batch');
      const rowCount = Math.min(ENCODER_CHUNK_ROWS, batch.rowCount - scan.rowStart);
      this.filler.fill(chunk, batch, scan.batchIndex, scan.schema, sources, scan.plans, scan.rowStart, rowCount);
      if (scan.sequenceColumn !== null) this.filler.fillSequence(duckdb.data_chunk_get_vector(chunk, scan.schema.length + 1), scan.rowsBefore + scan.rowStart, rowCount);
      scan.rowStart += rowCount;
      scan.fillMs += performance.now() - started;
      return rowCount;
    }
  }

  /**
   * Makes every file of the flush durable, a few at a time (SEAL_CONCURRENCY_MAX). Every seal has
   * ended before this returns or throws, so a discard after a failure never races a running fsync.
   */
  private async sealAll(copied: readonly Omit<EncodedHourFile, 'byteCount'>[]): Promise<EncodedHourFile[]> {
    const files = new Array<EncodedHourFile>(copied.length);
    let next = 0;
    const lane = async (): Promise<void> => {
      for (let index = next++; index < copied.length; index = next++) {
        const file = copied[index] as Omit<EncodedHourFile, 'byteCount'>;
        files[index] = { ...file, byteCount: await this.options.staged.sealStaged(file.path) };
      }
    };
    const outcomes = await Promise.allSettled(Array.from({ length: Math.min(SEAL_CONCURRENCY_MAX, copied.length) }, lane));
    for (const outcome of outcomes) if (outcome.status === 'rejected') throw outcome.reason;
    return files;
  }

  /**
   * After a failure. Best effort: a partial temp file must not be renamed by mistake; failing at
   * it (the directory is the problem) must not hide the error that matters.
   */
  private async discard(paths: readonly string[]): Promise<void> {
    await Promise.allSettled(paths.map((path) => this.options.staged.discard(path)));
  }
}
