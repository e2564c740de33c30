import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { badRequest, type ArcError } from '@arc/errors';
import type { BatchBufferPool } from './batch-buffer-pool.js';
import { timeMicrosAt } from './batch-view.js';
import { ColumnBuilder } from './column-builder.js';
import { BATCH_BUFFER_ALIGNMENT_BYTES, BATCH_ROWS_MAX, COLUMNS_PER_MEASUREMENT_MAX } from './limits.js';
import { validateColumnName } from './names.js';
import { ColumnRole, ColumnType, type BufferRange, type ColumnBatch, type ColumnLayout } from './types.js';
import { ColumnarErrorCode } from './error-codes.js';

const INITIAL_ROWS_CAPACITY = 1024;
/**
 * Tags are dictionary-encoded by default: decoders code each distinct value once (in parallel),
 * and the writer appends the codes to DuckDB as ENUM values instead of one string per row.
 */
const TAG_DICTIONARY_DEFAULT = true;

/** Suffix given to a field whose name is already a tag of the same measurement (Arc behaviour). */
export const FIELD_RENAMED_SUFFIX = '_value';

function align(offset: number): number {
  const mask = BATCH_BUFFER_ALIGNMENT_BYTES - 1;
  return (offset + mask) & ~mask;
}

/**
 * Builds the rows of one measurement of one request. Row-shaped input calls `beginRow`, then
 * `column(...)` + an append per value; columnar input calls `beginRows`, `setTimeAt` and appends whole columns.
 * `pack` produces the transferable `ColumnBatch`. Builders are pooled by the decoder.
 */
export class BatchBuilder {
  /** Tag columns are dictionary-encoded (see ColumnBuilder) unless this is false. */
  private readonly dictionaryEncodeTags: boolean;
  database = '';
  measurement = '';
  rowCount = 0;
  /**
   * Row times as int32 (low, high) pairs of int64 microseconds, exact over the whole int64 range
   * (line protocol times beyond ±2^53 µs, years 1677-1684 and 2255-2262, do not fit a double).
   */
  private timePairs = new Int32Array(INITIAL_ROWS_CAPACITY * 2);
  private readonly columnList: ColumnBuilder[] = [];
  private readonly columnsByName = new Map<string, ColumnBuilder>();
  /** Lower-cased name -> name: SQL identifiers are case-insensitive, so `Host` and `host` collide. */
  private readonly namesByLowerCase = new Map<string, string>();
  /** Retired builders kept for reuse by later requests. */
  private readonly spare: ColumnBuilder[] = [];

  constructor(options: { dictionaryEncodeTags?: boolean } = {}) {
    this.dictionaryEncodeTags = options.dictionaryEncodeTags ?? TAG_DICTIONARY_DEFAULT;
  }

  reset(database: string, measurement: string): void {
    this.database = database;
    this.measurement = measurement;
    this.rowCount = 0;
    for (const column of this.columnList) {
      column.reset();
      this.spare.push(column);
    }
    this.columnList.length = 0;
    this.columnsByName.clear();
    this.namesByLowerCase.clear();
  }

  get columnCount(): number {
    return this.columnList.length;
  }

  /** Closes the previous row (missing columns become null) and opens a new one. */
  beginRow(timeUs: number): ArcError | null {
    this.finishRow();
    if (this.rowCount >= BATCH_ROWS_MAX) {
      return badRequest(ColumnarErrorCode.tooManyRows, `More than ${BATCH_ROWS_MAX} rows for measurement '${this.measurement}'`);
    }
    this.ensureTimeCapacity(this.rowCount + 1);
    this.timePairs[this.rowCount * 2] = timeUs >>> 0;
    this.timePairs[this.rowCount * 2 + 1] = Math.floor(timeUs / 4294967296);
    this.rowCount++;
    return null;
  }

  /** beginRow for a time given as int64 microseconds split in (high signed, low unsigned) 32 bits. */
  beginRowAtParts(high: number, low: number): ArcError | null {
    const error = this.beginRow(0);
    if (error !== null) return error;
    this.timePairs[(this.rowCount - 1) * 2] = low | 0;
    this.timePairs[(this.rowCount - 1) * 2 + 1] = high | 0;
    return null;
  }

  /**
   * Columnar input: adds `rowCount` rows at once and returns the index of the first. Their times
   * are set with `setTimeAt`; each column is then appended whole after `column(name, role,
   * firstRow)`, and columns the input lacks are padded with nulls.
   */
  beginRows(rowCount: number): number | ArcError {
    this.finishRow();
    const firstRow = this.rowCount;
    if (firstRow + rowCount > BATCH_ROWS_MAX) {
      return badRequest(ColumnarErrorCode.tooManyRows, `More than ${BATCH_ROWS_MAX} rows for measurement '${this.measurement}'`);
    }
    this.ensureTimeCapacity(firstRow + rowCount);
    this.rowCount = firstRow + rowCount;
    return firstRow;
  }

  setTimeAt(row: number, timeUs: number): void {
    assert.ok(row < this.rowCount);
    this.timePairs[row * 2] = timeUs >>> 0;
    this.timePairs[row * 2 + 1] = Math.floor(timeUs / 4294967296);
  }

  /**
   * The builder for a tag or field, created (padded with nulls up to the current row) on first
   * use. In row mode the current row is `rowCount - 1`; columnar callers pass `rowsBefore = 0`.
   */
  column(name: string, role: ColumnRole, rowsBefore = Math.max(0, this.rowCount - 1)): ColumnBuilder | ArcError {
    const existing = this.columnsByName.get(name);
    if (existing !== undefined) {
      if (existing.role === role) return existing;
      if (role === ColumnRole.field) return this.column(name + FIELD_RENAMED_SUFFIX, role, rowsBefore);
      // A tag arrives after a field of the same name: the field takes the suffix.
      const renameError = this.renameColumn(existing, name + FIELD_RENAMED_SUFFIX);
      if (renameError !== null) return renameError;
      return this.column(name, role, rowsBefore);
    }
    const nameError = validateColumnName(name);
    if (nameError !== null) return nameError;
    const lowerCase = name.toLowerCase();
    const clash = this.namesByLowerCase.get(lowerCase);
    if (clash !== undefined) {
      return badRequest(
        ColumnarErrorCode.columnNameClash,
        `Columns '${clash}' and '${name}' of measurement '${this.measurement}' differ only in case`,
        { column: name, measurement: this.measurement },
      );
    }
    if (this.columnList.length >= COLUMNS_PER_MEASUREMENT_MAX) {
      return badRequest(
        ColumnarErrorCode.tooManyColumns,
        `Measurement '${this.measurement}' has more than ${COLUMNS_PER_MEASUREMENT_MAX} columns`,
        { measurement: this.measurement },
      );
    }
    const builder = this.takeBuilder(name, role);
    builder.padNullsTo(rowsBefore);
    this.columnList.push(builder);
    this.columnsByName.set(name, builder);
    this.namesByLowerCase.set(lowerCase, name);
    return builder;
  }

  /**
   * Packs rows and columns into one transferable ArrayBuffer, taken from `pool` when given (a
   * decoder thread's: the buffer is then of the pool's size class, the bytes past the batch
   * zero).
   */
  pack(pool?: BatchBufferPool): ColumnBatch | ArcError {
    this.finishRow();
    const rowCount = this.rowCount;
    let byteOffset = 0;
    const take = (byteLength: number): BufferRange => {
      const range = { byteOffset, byteLength };
      byteOffset = align(byteOffset + byteLength);
      return range;
    };
    const time = take(rowCount * 8);
    const layouts: ColumnLayout[] = [];
    for (const column of this.columnList) {
      assert.equal(column.length, rowCount);
      const type = column.type ?? ColumnType.utf8;
      const dictionary = column.isDictionaryEncoded() ? column.dictionaryValues() : null;
      const utf8Bytes = dictionary !== null ? dictionary.dataView() : type === ColumnType.utf8 ? column.valuesView() : null;
      if (utf8Bytes !== null && !isUtf8(utf8Bytes)) {
        return badRequest(ColumnarErrorCode.badUtf8, `Column '${column.name}' of '${this.measurement}' holds invalid UTF-8`, {
          column: column.name,
          measurement: this.measurement,
        });
      }
      layouts.push({
        name: column.name,
        role: column.role,
        type,
        nullCount: column.nullCount,
        values: take(column.valuesByteLength()),
        offsets: type === ColumnType.utf8 && dictionary === null ? take((rowCount + 1) * 4) : null,
        validity: column.nullCount > 0 ? take((rowCount + 7) >>> 3) : null,
        dictionary:
          dictionary === null
            ? null
            : { size: dictionary.size, offsets: take((dictionary.size + 1) * 4), data: take(dictionary.dataView().byteLength) },
      });
    }
    const buffer = pool === undefined ? new ArrayBuffer(byteOffset) : pool.take(byteOffset);
    const bytes = new Uint8Array(buffer);
    const { timeMinUs, timeMaxUs } = this.packTimes(new Int32Array(buffer, time.byteOffset, rowCount * 2));
    this.columnList.forEach((column, index) => {
      const layout = layouts[index];
      assert.ok(layout !== undefined);
      bytes.set(column.valuesView(), layout.values.byteOffset);
      if (layout.offsets !== null) {
        const offsets = column.offsetsView();
        bytes.set(new Uint8Array(offsets.buffer, offsets.byteOffset, offsets.byteLength), layout.offsets.byteOffset);
      }
      if (layout.validity !== null) bytes.set(column.validityView(), layout.validity.byteOffset);
      if (layout.dictionary !== null) {
        const dictionary = column.dictionaryValues();
        const offsets = dictionary.offsetsView();
        bytes.set(new Uint8Array(offsets.buffer, offsets.byteOffset, offsets.byteLength), layout.dictionary.offsets.byteOffset);
        bytes.set(dictionary.dataView(), layout.dictionary.data.byteOffset);
      }
    });
    return {
      database: this.database,
      measurement: this.measurement,
      rowCount,
      timeMinUs,
      timeMaxUs,
      time,
      columns: layouts,
      buffer,
    };
  }

  private packTimes(target: Int32Array): { timeMinUs: number; timeMaxUs: number } {
    let timeMinUs = Number.POSITIVE_INFINITY;
    let timeMaxUs = Number.NEGATIVE_INFINITY;
    const pairs = this.timePairs;
    assert.ok(pairs.length >= this.rowCount * 2, 'a time pair per row');
    for (let row = 0; row < this.rowCount; row++) {
      // Exact within ±2^53 µs; beyond, the nearest double (ColumnBatch.timeMinUs says so).
      const micros = timeMicrosAt(pairs, row);
      if (micros < timeMinUs) timeMinUs = micros;
      if (micros > timeMaxUs) timeMaxUs = micros;
    }
    target.set(pairs.subarray(0, this.rowCount * 2));
    return { timeMinUs, timeMaxUs };
  }

  private finishRow(): void {
    for (const column of this.columnList) column.padNullsTo(this.rowCount);
  }

  private renameColumn(column: ColumnBuilder, newName: string): ArcError | null {
    const nameError = validateColumnName(newName);
    if (nameError !== null) return nameError;
    if (this.namesByLowerCase.has(newName.toLowerCase())) {
      return badRequest(ColumnarErrorCode.columnNameClash, `Field '${column.name}' collides with a tag and with '${newName}'`, {
        column: column.name,
      });
    }
    this.columnsByName.delete(column.name);
    this.namesByLowerCase.delete(column.name.toLowerCase());
    column.name = newName;
    this.columnsByName.set(newName, column);
    this.namesByLowerCase.set(newName.toLowerCase(), newName);
    return null;
  }

  private takeBuilder(name: string, role: ColumnRole): ColumnBuilder {
    // Builders keep their capacity; reuse one of the same role so tags stay utf8-sized.
    for (let index = this.spare.length - 1; index >= 0; index--) {
      const candidate = this.spare[index];
      if (candidate?.role === role) {
        this.spare.splice(index, 1);
        candidate.name = name;
        return candidate;
      }
    }
    return new ColumnBuilder(name, role, this.dictionaryEncodeTags);
  }

  private ensureTimeCapacity(rows: number): void {
    if (rows * 2 <= this.timePairs.length) return;
    let capacity = this.timePairs.length;
    while (capacity < rows * 2) capacity *= 2;
    const grown = new Int32Array(capacity);
    grown.set(this.timePairs);
    this.timePairs = grown;
  }
}
