export { MeasurementCensus } from './measurement-census.js';
export { writerIndexFor } from './writer-messages.js';
export type { BatchBuffersReturned, BufferedColumn, DecoderToWriter, WriterVerdict, WriterToDecoder, WalCoveredNotice, WalPosition, FlushedFile, LastCacheRequest, MainToWriter, MeasurementEvent, WriterToMain, WriterStats } from './writer-messages.js';
export type { WriterWorkerData } from './writer-worker.js';
export { WRITER_WORKER_URL } from './worker-url.js';
export { mergeSchema } from './schema-merge.js';
export { isFlushDueByAge, isFlushDueBySize } from './flush-policy.js';
export type { FlushPolicy } from './flush-policy.js';
export { WriterErrorCode } from './error-codes.js';
// The Parquet encoder (it loads DuckDB) has its own entry point, `@arc/writer/parquet-encoder`,
// and WriterCore (which uses it) runs only in writer threads: the main thread imports this front
// door and must not load DuckDB (a few hundred ms of every start).
export { FILE_BYTES_BUCKETS, FLUSH_SECONDS_BUCKETS, WRITER_TELEMETRY } from './writer-telemetry.js';
export type { WriterTelemetry } from './writer-telemetry.js';
export type { LastCacheDefinition } from './last-value-cache.js';
