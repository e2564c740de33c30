import type { ColumnBatch, SchemaColumn } from '@arc/columnar';
import { ArcError } from '@arc/errors';
import { mergeSchema } from './schema-merge.js';
import type { WalPosition } from './writer-messages.js';

/**
 * The rows of one (database, measurement) waiting in a writer thread for their flush. `schema`
 * is the union of what is buffered and prepared, the reference for conflict checks of new
 * requests; `batches` are committed rows only.
 */
export class MeasurementBuffer {
  readonly database: string;
  readonly measurement: string;
  schema: SchemaColumn[] = [];
  /** The schema last reported to the main thread (WriterCore onSchema). */
  reportedSchema: SchemaColumn[] | null = null;
  batches: ColumnBatch[] = [];
  rowCount = 0;
  byteCount = 0;
  /** When the oldest buffered row arrived (ms, monotonic clock); 0 when empty. */
  oldestAtMs = 0;
  /** Batches prepared by multi-writer requests, not yet committed or aborted. */
  readonly prepared = new Map<string, ColumnBatch>();
  flushQueued = false;
  /** Failed flushes of this buffer, and the latest one's error (what a flush of it answers). */
  flushFailures = 0;
  lastFlushError: ArcError | null = null;
  /** WAL stream -> highest seq among the buffered batches (empty with the WAL off). */
  walSeqMax = new Map<number, number>();
  /** Batches taken by flushes whose files are not published yet: still part of the schema. */
  private readonly inFlight = new Set<readonly ColumnBatch[]>();

  constructor(database: string, measurement: string) {
    this.database = database;
    this.measurement = measurement;
  }

  /** The buffer holds WAL entries of `stream` up to `seq`: a stream not seen yet starts at `seq`. */
  noteWalSeq(stream: number, seq: number): void {
    const seqMax = this.walSeqMax.get(stream);
    if (seqMax === undefined || seq > seqMax) this.walSeqMax.set(stream, seq);
  }

  /** The schema after adding `batch`, or the conflict; changes nothing. */
  check(batch: ColumnBatch): SchemaColumn[] | ArcError {
    const merged = mergeSchema(this.schema, batch);
    return 'error' in merged ? merged.error : merged.schema;
  }

  add(batch: ColumnBatch, schema: SchemaColumn[], nowMs: number, wal: WalPosition | null = null): void {
    if (wal !== null) this.noteWalSeq(wal.stream, wal.seq);
    this.schema = schema;
    if (this.rowCount === 0) this.oldestAtMs = nowMs;
    this.batches.push(batch);
    this.rowCount += batch.rowCount;
    this.byteCount += batch.buffer.byteLength;
  }

  /**
   * Takes every committed batch out for a flush. The schema stays: rows being flushed are still
   * buffered for conflict checks until their file is published (`published`).
   */
  take(): { batches: ColumnBatch[]; walSeqMax: Map<number, number> } {
    const taken = { batches: this.batches, walSeqMax: this.walSeqMax };
    this.inFlight.add(taken.batches);
    this.walSeqMax = new Map();
    this.batches = [];
    this.rowCount = 0;
    this.byteCount = 0;
    this.oldestAtMs = 0;
    return taken;
  }

  /** The taken rows are in Parquet: the schema is now what the remaining rows need. */
  published(batches: readonly ColumnBatch[]): void {
    this.inFlight.delete(batches);
    this.recomputeSchema();
  }

  /** Committed rows not in a published file yet: buffered, or taken by a flush under way. */
  batchesHeld(): ColumnBatch[] {
    return [...[...this.inFlight].flat(), ...this.batches];
  }

  /** Flushes of this buffer whose files are not published yet. */
  get flushesInFlight(): number {
    return this.inFlight.size;
  }

  /** Puts batches of a failed flush back in front, so they are retried first and in order. */
  restore(batches: ColumnBatch[], walSeqMax: ReadonlyMap<number, number>, nowMs: number): void {
    this.inFlight.delete(batches);
    for (const [stream, seq] of walSeqMax) this.noteWalSeq(stream, seq);
    this.batches = [...batches, ...this.batches];
    for (const batch of batches) {
      this.rowCount += batch.rowCount;
      this.byteCount += batch.buffer.byteLength;
    }
    this.oldestAtMs = nowMs;
    this.recomputeSchema();
  }

  /** After an abort the schema may have grown for nothing: rebuild it from what remains. */
  recomputeSchema(): void {
    let schema: SchemaColumn[] = [];
    for (const batch of [...[...this.inFlight].flat(), ...this.batches, ...this.prepared.values()]) {
      const merged = mergeSchema(schema, batch);
      if ('schema' in merged) schema = merged.schema;
    }
    this.schema = schema;
  }

  isEmpty(): boolean {
    return this.rowCount === 0 && this.prepared.size === 0;
  }
}

/** The merged schema of batches being flushed together (they were checked when accepted). */
export function schemaOfBatches(batches: readonly ColumnBatch[]): SchemaColumn[] {
  let schema: SchemaColumn[] = [];
  for (const batch of batches) {
    const merged = mergeSchema(schema, batch);
    if ('error' in merged) throw merged.error; // accepted batches were checked: a broken invariant
    schema = merged.schema;
  }
  return schema;
}
