import type { AuthFailureCounts } from '@arc/auth';
import type { MERGE_TELEMETRY } from '@arc/compaction';
import type { IngestPipeline } from '@arc/ingest';
import type { QueryPool } from '@arc/query';
import type { BlockOf, HistogramSnapshot } from '@arc/telemetry';
import type { IngestMeter } from './metrics-ingest.js';
import type { RequestMeter } from './metrics-requests.js';
import { ExposedSeries, histogramSamples, type CounterFamily, type Sample, type SeriesType } from './metrics-series.js';
import type { MAIN_TELEMETRY } from './metrics-threads.js';

/** Everything the series are read from at scrape time. */
export interface MetricsSources {
  readonly version: string;
  readonly startedAtMs: number;
  readonly requests: RequestMeter;
  readonly ingest: IngestMeter;
  readonly pipeline: IngestPipeline;
  readonly queryPool: QueryPool;
  readonly cacheLookups: () => { readonly hits: number; readonly misses: number };
  readonly compaction: { readonly jobs: CounterFamily; readonly bytesRead: number; readonly bytesWritten: number };
  readonly authFailures: () => AuthFailureCounts;
  readonly mainThread: BlockOf<typeof MAIN_TELEMETRY>;
  readonly compactionThreads: BlockOf<typeof MERGE_TELEMETRY>;
}

const MS_PER_SECOND = 1000;

/** auth's failure reasons as the series' `reason` label names them. */
const AUTH_REASON_LABELS: Readonly<Record<keyof AuthFailureCounts, string>> = { missing_token: 'missing', invalid_token: 'invalid', permission_denied: 'forbidden' };

function one(value: number, labels: Readonly<Record<string, string>> = {}): Sample[] {
  return [{ value, labels }];
}

/** One sample per claimed block of a thread kind, labelled `thread="<kind>-<index>"`. */
function perThread(kind: string, values: readonly number[], claimed: readonly number[]): Sample[] {
  return claimed.map((index) => ({ value: values[index] as number, labels: { thread: `${kind}-${index}` } }));
}

/** The WAL's sync histogram (milliseconds, per bucket) as a snapshot in seconds. */
function walSyncSnapshot(pipeline: IngestPipeline, boundsMs: readonly number[]): HistogramSnapshot {
  const stats = pipeline.walStats();
  const cumulative: number[] = [];
  let running = 0;
  for (const count of stats.syncHistogram) cumulative.push((running += count));
  return { bounds: boundsMs.map((bound) => bound / MS_PER_SECOND), cumulative, sum: stats.syncMsTotal / MS_PER_SECOND, count: running };
}

type SeriesDefinition = readonly [name: string, type: SeriesType, help: string, read: (name: string) => Sample[]];

/**
 * Arc's series (README "Monitoring" lists them): names in base units, `_total` counters, bounded
 * labels. Each reads its values when scraped; nothing here runs per request.
 */
export function arcSeries(sources: MetricsSources, walSyncBoundsMs: readonly number[]): SeriesDefinition[] {
  const { requests, ingest, pipeline, queryPool } = sources;
  const writerBlock = (): IngestPipeline['telemetry']['writers'] => pipeline.telemetry.writers;
  const decoderBlock = (): IngestPipeline['telemetry']['decoders'] => pipeline.telemetry.decoders;
  /** One sample per writer, `writer="<index>"`. */
  const perWriter = (values: readonly number[]): Sample[] => values.map((value, index) => ({ value, labels: { writer: String(index) } }));
  return [
    ['arc_build_info', 'gauge', 'Always 1; the labels name the Arc version and the Node.js version', () => one(1, { version: sources.version, node: process.version })],
    ['arc_uptime_seconds', 'gauge', 'Seconds since this server started', () => one((Date.now() - sources.startedAtMs) / MS_PER_SECOND)],
    ['arc_http_requests_total', 'counter', 'HTTP requests answered, by registered route pattern, method and status', () => requests.requests.samples()],
    ['arc_http_request_duration_seconds', 'histogram', 'Time from a request to its answer status (a streamed answer: to its first rows)', (name) => requests.durations.samples(name)],
    ['arc_ingest_requests_total', 'counter', 'Write requests that reached a verdict, by protocol and database (past [metrics] database_labels_max: other)', () => ingest.requests.samples()],
    ['arc_ingest_rows_total', 'counter', 'Rows acknowledged (204), by protocol and database', () => ingest.rows.samples()],
    ['arc_ingest_bytes_total', 'counter', 'Request body bytes as received (compressed if sent so), by protocol and database', () => ingest.bytes.samples()],
    ['arc_ingest_rejects_total', 'counter', 'Write requests refused, by reason', () => ingest.rejects.samples()],
    ['arc_ingest_overload_responses_total', 'counter', 'Write requests answered 503 (past the in-flight bound or the longest wait, starting, stopping)', () => one(ingest.overloadResponses)],
    ['arc_ingest_writes_waiting', 'gauge', 'Write requests waiting for a decoder ring or for write buffers to drain', () => one(pipeline.writesParked)],
    ['arc_ingest_write_bytes_held', 'gauge', 'Body bytes of write requests not yet answered (waiting plus with a decoder); past ingest.in_flight_max_mb writes get 503', () => one(pipeline.writeBytesHeld)],
    ['arc_ingest_waits_total', 'counter', 'Write requests that waited for room, by how the wait ended (handed_over, timed_out, stopped)', () => ingest.waits.samples()],
    ['arc_ingest_wait_seconds', 'histogram', 'Time a write request waited for a decoder ring or for write buffers to drain, over all its waits', (name) => ingest.waitSeconds.samples(name)],
    ['arc_ingest_ring_used_ratio', 'gauge', 'How full each acceptor-to-decoder ring is, 0 to 1', () => pipeline.ringUsedRatios().map((value, index) => ({ value, labels: { ring: `decoder-${index}` } }))],
    ['arc_writer_buffered_rows', 'gauge', 'Rows a writer holds that are not in Parquet yet', () => perWriter(writerBlock().gaugeByThread('bufferedRows'))],
    ['arc_writer_buffered_bytes', 'gauge', 'Bytes of rows a writer holds that are not in Parquet yet', () => perWriter(writerBlock().gaugeByThread('bufferedBytes'))],
    ['arc_writer_flushes_total', 'counter', 'Flushes a writer published', () => perWriter(writerBlock().counterByThread('flushes'))],
    ['arc_writer_flush_failures_total', 'counter', 'Flushes that failed (their rows stay buffered and are retried)', () => one(writerBlock().counterTotal('flushFailures'))],
    ['arc_writer_flush_duration_seconds', 'histogram', 'Time from a flush start to its files published', (name) => histogramSamples(name, writerBlock().histogram('flushSeconds'))],
    ['arc_writer_file_size_bytes', 'histogram', 'Bytes of each Parquet file a flush wrote', (name) => histogramSamples(name, writerBlock().histogram('fileSizeBytes'))],
    ['arc_wal_bytes_total', 'counter', 'Bytes appended to the write-ahead log', () => one(pipeline.walStats().bytes)],
    ['arc_wal_syncs_total', 'counter', 'Syncs of the write-ahead log', () => one(pipeline.walStats().syncs)],
    ['arc_wal_sync_duration_seconds', 'histogram', 'Time of each write-ahead log sync', (name) => histogramSamples(name, walSyncSnapshot(pipeline, walSyncBoundsMs))],
    ['arc_query_requests_total', 'counter', 'Query requests answered, by language', () => requests.queries.samples()],
    ['arc_query_duration_seconds', 'histogram', 'Time from a query request to its answer status, by language', (name) => requests.queryDurations.samples(name)],
    ['arc_query_errors_total', 'counter', 'Query requests answered with an error, by Arc error code', () => requests.queryErrors.samples()],
    ['arc_query_rows_returned_total', 'counter', 'Rows the query threads answered (queries and streams)', () => one(queryPool.stats().rowsReturned)],
    ['arc_query_queue_depth', 'gauge', 'Queries waiting for a query thread', () => one(queryPool.stats().queued)],
    ['arc_query_running', 'gauge', 'Queries a query thread is running', () => one(queryPool.stats().running)],
    ['arc_query_cache_hits_total', 'counter', 'Query answers served from the query cache', () => one(sources.cacheLookups().hits)],
    ['arc_query_cache_misses_total', 'counter', 'Cacheable queries the query cache did not hold', () => one(sources.cacheLookups().misses)],
    ['arc_query_series_windows_total', 'counter', 'Queries of a few series over a window of time answered from the series cache, not by DuckDB, and latest-rows queries whose first step it answered', () => one(queryPool.telemetry.counterTotal('seriesWindows'))],
    ['arc_query_series_cache_bytes', 'gauge', 'Bytes of Parquet files decoded for series windows a query thread keeps, per thread', () => perThread('query', queryPool.telemetry.gaugeByThread('seriesCacheBytes'), queryPool.telemetry.claimedThreads())],
    ['arc_compaction_jobs_total', 'counter', 'Compaction jobs ended, by result (skipped: another job or node held the partition or an input)', () => sources.compaction.jobs.samples()],
    ['arc_compaction_bytes_read_total', 'counter', 'Bytes of the input files of succeeded compaction jobs', () => one(sources.compaction.bytesRead)],
    ['arc_compaction_bytes_written_total', 'counter', 'Bytes of the files succeeded compaction jobs wrote', () => one(sources.compaction.bytesWritten)],
    ['arc_auth_failures_total', 'counter', 'Requests refused by authentication or authorization, by reason (an expired token counts as invalid)', () => authSamples(sources.authFailures())],
    ['arc_event_loop_lag_seconds', 'gauge', 'Longest event-loop delay of each thread over the last second (decoders: the longest stretch between two looks at their ring)', () => threadGauge(sources, 'eventLoopLagSeconds')],
    ['arc_thread_heap_used_bytes', 'gauge', 'V8 heap in use, per thread', () => threadGauge(sources, 'heapUsedBytes')],
    ['arc_duckdb_memory_bytes', 'gauge', "Bytes DuckDB's buffer manager holds, per writer, query and compaction merge thread", () => duckdbMemory(sources)],
    ['arc_decoder_requests_total', 'counter', 'Requests a decoder thread decoded (valid or not)', () => one(decoderBlock().counterTotal('requestsDecoded'))],
    ['arc_decoder_batch_buffers_reused_total', 'counter', 'Batches a decoder thread packed into a buffer a writer gave back after its flush, instead of a new one', () => one(decoderBlock().counterTotal('batchBuffersReused'))],
    ['arc_decoder_batch_buffer_pool_bytes', 'gauge', 'Bytes of buffers writers gave back that a decoder thread keeps to pack new batches into, per thread', () => perThread('decoder', decoderBlock().gaugeByThread('batchBufferPoolBytes'), decoderBlock().claimedThreads())],
  ];
}

function authSamples(counts: AuthFailureCounts): Sample[] {
  return (Object.keys(AUTH_REASON_LABELS) as (keyof AuthFailureCounts)[]).map((reason) => ({ value: counts[reason], labels: { reason: AUTH_REASON_LABELS[reason] } }));
}

export function threadGauge(sources: MetricsSources, gauge: 'eventLoopLagSeconds' | 'heapUsedBytes'): Sample[] {
  const { pipeline, queryPool, mainThread, compactionThreads } = sources;
  return [
    { value: mainThread.gaugeByThread(gauge)[0] ?? 0, labels: { thread: 'main' } },
    ...perThread('decoder', pipeline.telemetry.decoders.gaugeByThread(gauge), pipeline.telemetry.decoders.claimedThreads()),
    ...perThread('writer', pipeline.telemetry.writers.gaugeByThread(gauge), pipeline.telemetry.writers.claimedThreads()),
    ...perThread('query', queryPool.telemetry.gaugeByThread(gauge), queryPool.telemetry.claimedThreads()),
    ...perThread('compaction', compactionThreads.gaugeByThread(gauge), compactionThreads.claimedThreads()),
  ];
}

export function duckdbMemory(sources: MetricsSources): Sample[] {
  const { pipeline, queryPool, compactionThreads } = sources;
  return [
    ...perThread('writer', pipeline.telemetry.writers.gaugeByThread('duckdbMemoryBytes'), pipeline.telemetry.writers.claimedThreads()),
    ...perThread('query', queryPool.telemetry.gaugeByThread('duckdbMemoryBytes'), queryPool.telemetry.claimedThreads()),
    ...perThread('compaction', compactionThreads.gaugeByThread('duckdbMemoryBytes'), compactionThreads.claimedThreads()),
  ];
}

/** The series as prom-client metric objects, for one registry (see ExposedSeries on why not shared). */
export function exposedSeries(definitions: readonly SeriesDefinition[]): ExposedSeries[] {
  return definitions.map(([name, type, help, read]) => new ExposedSeries(name, type, help, read));
}
