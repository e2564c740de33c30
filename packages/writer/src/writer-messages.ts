import { fnv1aOfString, type ColumnBatch, type LastValueTable } from '@arc/columnar';
import type { LastCacheDefinition } from './last-value-cache.js';
import type { ArcErrorShape } from '@arc/errors';

/**
 * Messages between decoder threads and writer threads (one MessagePort per decoder-writer pair)
 * and between the main thread and writers.
 *
 * A request whose batches all go to one writer is accepted with one `append` (check + buffer in
 * one step); with the WAL on it is logged first and its `append` carries its WAL position (a
 * refusal is then cancelled in the WAL by the decoder). A request spanning several writers is accepted all-or-nothing with `prepare` to each
 * writer, then `commit` (all said yes) or `abort`: prepared batches count for schema and memory
 * checks but are flushed only once committed. `replayed`: rows of a WAL replay, acknowledged
 * before the restart, so no bound that may have been lowered since refuses them.
 */
export type DecoderToWriter =
  | { readonly kind: 'append'; readonly txnId: number; readonly batches: readonly ColumnBatch[]; readonly replayed?: boolean; readonly wal?: WalPosition }
  | { readonly kind: 'prepare'; readonly txnId: number; readonly batches: readonly ColumnBatch[]; readonly replayed?: boolean }
  | { readonly kind: 'commit'; readonly txnId: number; readonly wal?: WalPosition }
  | { readonly kind: 'abort'; readonly txnId: number };

/**
 * Where a request's WAL entry is: stream (the decoder that logged it) and seq. With the WAL on,
 * a request reaches a writer's buffers only once its entry is durable (an `append` after the
 * log, or a `commit` after prepare and log), and the decoder posts both in seq order, so a writer
 * receives one stream's entries in seq order and its flush journal can record prefixes.
 */
export interface WalPosition {
  readonly stream: number;
  readonly seq: number;
}

/**
 * Writer to the decoder owning WAL stream `stream` (on that decoder's port): every entry of the
 * stream up to `seqMax` that touches (database, measurement) is in durable Parquet.
 */
export interface WalCoveredNotice {
  readonly kind: 'wal-covered';
  readonly database: string;
  readonly measurement: string;
  readonly seqMax: number;
}

/**
 * Writer to the decoder that packed them: the buffers of batches whose rows are published
 * (transferred, so they become garbage of neither thread; the decoder packs new batches into them).
 */
export interface BatchBuffersReturned {
  readonly kind: 'batch-buffers';
  readonly buffers: readonly ArrayBuffer[];
}
export type WriterToDecoder = WriterVerdict | WalCoveredNotice | BatchBuffersReturned;

export interface WriterVerdict {
  readonly kind: 'verdict';
  readonly txnId: number;
  readonly error: ArcErrorShape | null;
}

export interface FlushedFile {
  readonly key: string;
  readonly rowCount: number;
  readonly byteCount: number;
  /** The file's columns (what the storage catalog knows of its schema without reading it). */
  readonly columns: readonly BufferedColumn[];
}

/**
 * A delete of a database (`measurement` null) or of one measurement goes through the writers:
 * `delete-begin` makes a writer refuse new batches for the name and drop what it buffers of it
 * (answered by `delete-ready`); the files are deleted; `delete-end` lets writes in again.
 * `flush-measurement` goes to the writer owning the name (writerIndexFor) and is answered by a
 * `flush-done` once that name's rows are in files and the flush journal, as `flush-all` is for all.
 */
export type MainToWriter =
  | { readonly kind: 'flush-all'; readonly requestId: number }
  | { readonly kind: 'flush-measurement'; readonly requestId: number; readonly database: string; readonly measurement: string }
  | { readonly kind: 'stats'; readonly requestId: number }
  | { readonly kind: 'delete-begin'; readonly requestId: number; readonly database: string; readonly measurement: string | null }
  | { readonly kind: 'delete-end'; readonly database: string; readonly measurement: string | null }
  | { readonly kind: 'last-cache'; readonly requestId: number; readonly request: LastCacheRequest }
  | { readonly kind: 'shutdown' };

/**
 * What the main thread asks of the writer owning a measurement about its last-value caches
 * (last-value-cache.ts): define one (it takes the rows buffered now), drop one, merge rows read
 * from the measurement's files (seed), or read the rows of some (answered as tables).
 */
export type LastCacheRequest =
  | { readonly op: 'define'; readonly definition: LastCacheDefinition }
  | { readonly op: 'drop'; readonly database: string; readonly measurement: string; readonly name: string }
  | { readonly op: 'seed'; readonly table: LastValueTable }
  | { readonly op: 'read'; readonly database: string; readonly measurement: string; readonly names: readonly string[] };

export interface WriterStats {
  readonly rowsBuffered: number;
  readonly bytesBuffered: number;
  readonly buffers: number;
  readonly flushes: number;
  readonly flushFailures: number;
  readonly rowsFlushed: number;
  readonly filesWritten: number;
}

/** A column of a measurement as its Parquet files will have it. */
export interface BufferedColumn {
  readonly name: string;
  /** DuckDB SQL type name: TIMESTAMP, BIGINT, DOUBLE, VARCHAR, BOOLEAN. */
  readonly type: string;
}

export type MeasurementEvent =
  /** New files of a (database, measurement) are in place. */
  | { readonly kind: 'flushed'; readonly database: string; readonly measurement: string; readonly files: readonly FlushedFile[] }
  /** The buffered rows of a (database, measurement) now have these columns (name, SQL type; time first). */
  | { readonly kind: 'schema'; readonly database: string; readonly measurement: string; readonly columns: readonly BufferedColumn[] };

export type WriterToMain =
  | { readonly kind: 'ready'; readonly writerIndex: number }
  | { readonly kind: 'init-failed'; readonly message: string }
  /**
   * What happened to measurements since the last such message, in order. Batched (one message per
   * event-loop turn of the writer, sent before any other message) because a request of thousands
   * of measurements made one message each and kept the main thread busy (issue 11).
   */
  | { readonly kind: 'measurements'; readonly events: readonly MeasurementEvent[] }
  | { readonly kind: 'flush-all-done'; readonly requestId: number; readonly error: ArcErrorShape | null }
  | { readonly kind: 'flush-done'; readonly requestId: number; readonly error: ArcErrorShape | null }
  | { readonly kind: 'stats'; readonly requestId: number; readonly stats: WriterStats }
  | { readonly kind: 'delete-ready'; readonly requestId: number; readonly error: ArcErrorShape | null }
  | { readonly kind: 'last-cache-done'; readonly requestId: number; readonly tables: readonly LastValueTable[] }
  | { readonly kind: 'log'; readonly level: 'info' | 'warn' | 'error'; readonly message: string }
  /** The thread stopped; `rowsUnflushed` acknowledged rows were still buffered (not in Parquet). */
  | { readonly kind: 'closed'; readonly rowsUnflushed: number };

/** The writer that owns a (database, measurement): every batch of one series goes to one thread. */
export function writerIndexFor(database: string, measurement: string, writerCount: number): number {
  return (fnv1aOfString(`${database}\u0000${measurement}`) >>> 0) % writerCount;
}
