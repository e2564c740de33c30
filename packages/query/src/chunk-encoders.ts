import type { StreamFormat } from './answer-format.js';
import { writeCsvHeader, writeCsvRecords } from './csv-answer.js';
import { ColumnView, loadViews, planColumn, writeValue } from './json-columns.js';
import type { ColumnPlan, ResultColumns } from './json-columns.js';
import { JsonWriter } from './json-writer.js';
import type { AnswerChunk } from './result-chunks.js';

export type { ResultColumns } from './json-columns.js';
export type { StreamFormat } from './answer-format.js';

/**
 * Encodes a result one DuckDB chunk at a time for `POST /query/stream`, so an answer of any size
 * is sent with memory flat: only the chunk being encoded exists as bytes in the worker.
 */
export interface ChunkEncoder {
  /** Bytes before the first row: the CSV header record; empty for NDJSON. */
  start(): Uint8Array;
  /** Encodes the first `rowCount` rows of the chunk; the returned bytes are a fresh copy the caller may transfer. */
  encodeChunk(chunk: AnswerChunk, rowCount: number): Uint8Array;
}

/**
 * CSV: the same bytes as the CSV answer (csv-answer.ts) once concatenated, header record first.
 * NDJSON: one JSON object per row, keys in column order, values by the JSON answer's rules,
 * each line ending in `\n`: `{"time":"2025-10-16T16:00:00Z","host":"a","v":1.5}`.
 */
export function createChunkEncoder(format: StreamFormat, columns: ResultColumns): ChunkEncoder {
  return format === 'csv' ? new CsvChunkEncoder(columns) : new NdjsonChunkEncoder(columns);
}

/** The writer chunks are encoded into, reused chunk after chunk (its pages stay warm). */
function copyOut(out: JsonWriter): Uint8Array {
  const bytes = out.bytes.slice(0, out.length);
  out.clear();
  return bytes;
}

class CsvChunkEncoder implements ChunkEncoder {
  private readonly out = new JsonWriter();
  private readonly plans: ColumnPlan[];
  private readonly views: ColumnView[];
  private readonly header: Uint8Array;

  constructor(columns: ResultColumns) {
    this.plans = writeCsvHeader(this.out, columns);
    this.header = copyOut(this.out);
    this.views = this.plans.map(() => new ColumnView());
  }

  start(): Uint8Array {
    return this.header.slice();
  }

  encodeChunk(chunk: AnswerChunk, rowCount: number): Uint8Array {
    writeCsvRecords(this.out, chunk, rowCount, this.plans, this.views);
    return copyOut(this.out);
  }
}

class NdjsonChunkEncoder implements ChunkEncoder {
  private readonly out = new JsonWriter();
  private readonly plans: ColumnPlan[] = [];
  private readonly views: ColumnView[] = [];
  /** Per column, the bytes before its value: `{"name":` for the first, `,"name":` after. */
  private readonly keys: Uint8Array[] = [];

  constructor(columns: ResultColumns) {
    const key = new JsonWriter(new Uint8Array(256));
    for (let column = 0; column < columns.columnCount; column++) {
      key.byte(column === 0 ? 0x7b : 0x2c);
      key.string(columns.columnName(column));
      key.byte(0x3a);
      this.keys.push(copyOut(key));
      this.plans.push(planColumn(columns.columnType(column)));
      this.views.push(new ColumnView());
    }
  }

  start(): Uint8Array {
    return new Uint8Array(0);
  }

  encodeChunk(chunk: AnswerChunk, rowCount: number): Uint8Array {
    const out = this.out;
    const views = this.views;
    const keys = this.keys;
    loadViews(views, this.plans, chunk, rowCount);
    for (let row = 0; row < rowCount; row++) {
      // A result with no columns still has rows; each is an empty object.
      if (views.length === 0) out.byte(0x7b);
      for (let column = 0; column < views.length; column++) {
        const key = keys[column];
        const view = views[column];
        if (key === undefined || view === undefined) continue;
        out.copy(key, 0, key.length);
        writeValue(out, view, row);
      }
      out.reserve(2);
      out.putByte(0x7d);
      out.putByte(0x0a);
    }
    return copyOut(this.out);
  }
}
