import { BatchBuilder, validateMeasurementName, type BatchBufferPool, type ColumnBatch } from '@arc/columnar';
import { ArcError } from '@arc/errors';

/**
 * The batch builders of one request, one per measurement, drawn from a pool that lives as long
 * as the decoder thread (builders keep their grown buffers between requests). Batches are packed
 * into buffers of `buffers` when given (a decoder thread's pool of buffers writers gave back).
 */
export class RequestBatches {
  database = '';
  private readonly active = new Map<string, BatchBuilder>();
  private readonly pool: BatchBuilder[] = [];
  private readonly buffers: BatchBufferPool | undefined;

  constructor(buffers?: BatchBufferPool) {
    this.buffers = buffers;
  }

  begin(database: string): void {
    this.database = database;
    for (const builder of this.active.values()) this.pool.push(builder);
    this.active.clear();
  }

  /** The builder for `measurement`, validating the name the first time it is seen. */
  builderFor(measurement: string): BatchBuilder | ArcError {
    const existing = this.active.get(measurement);
    if (existing !== undefined) return existing;
    const nameError = validateMeasurementName(measurement);
    if (nameError !== null) return nameError;
    const builder = this.pool.pop() ?? new BatchBuilder();
    builder.reset(this.database, measurement);
    this.active.set(measurement, builder);
    return builder;
  }

  rowCount(): number {
    let rows = 0;
    for (const builder of this.active.values()) rows += builder.rowCount;
    return rows;
  }

  /** Packs every measurement; the first packing error (invalid UTF-8) rejects the request. */
  pack(): ColumnBatch[] | ArcError {
    const batches: ColumnBatch[] = [];
    for (const builder of this.active.values()) {
      if (builder.rowCount === 0) continue;
      const packed = builder.pack(this.buffers);
      if (packed instanceof ArcError) return packed;
      batches.push(packed);
    }
    return batches;
  }
}
