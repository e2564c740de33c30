import { collectDefaultMetrics, Registry, type Metric, type OpenMetricsContentType } from 'prom-client';
import type { MetricsConfig } from '@arc/config';
import type { CompactionJob, JobResult } from '@arc/compaction';
import { startThreadVitals, TelemetryBlock, type BlockOf } from '@arc/telemetry';
import { SYNC_LATENCY_BUCKETS_MS } from '@arc/wal';
import { arcSeries, duckdbMemory, exposedSeries, threadGauge, type MetricsSources } from './metrics-exposition.js';
import { RecentValues, type TimeseriesReaders } from './metrics-timeseries.js';
import { IngestMeter } from './metrics-ingest.js';
import { RequestMeter } from './metrics-requests.js';
import { CounterFamily } from './metrics-series.js';
import { MAIN_TELEMETRY } from './metrics-threads.js';

/** What GET /metrics answers in: Prometheus text 0.0.4 (the default), OpenMetrics 1.0, or JSON. */
export type MetricsFormat = 'text' | 'openmetrics' | 'json';

/** The format an Accept header asks for: OpenMetrics or JSON when named, else Prometheus text. */
export function metricsFormatOf(accept: string): MetricsFormat {
  const lower = accept.toLowerCase();
  if (lower.includes('application/openmetrics-text')) return 'openmetrics';
  if (lower.includes('application/json')) return 'json';
  return 'text';
}

export interface RenderedMetrics {
  readonly contentType: string;
  readonly body: string;
}

/**
 * Arc's metrics on the main thread: the meters that count requests and writes as they are
 * answered, the compaction tallies, this thread's vitals, and (once the server has its parts,
 * `expose`) two prom-client registries that read every series at scrape time: one renders
 * Prometheus text, one OpenMetrics. Each registry also has prom-client's default process_* and
 * nodejs_* metrics (CPU, memory, file descriptors, event loop, GC) of this process.
 */
export class ServerMetrics {
  readonly requests = new RequestMeter();
  readonly ingest: IngestMeter;
  readonly compaction = { jobs: new CounterFamily(['result']), bytesRead: 0, bytesWritten: 0 };
  readonly mainThread: BlockOf<typeof MAIN_TELEMETRY> = TelemetryBlock.create(MAIN_TELEMETRY, 1);
  readonly #stopVitals: () => void;
  readonly #config: MetricsConfig;
  #sources: MetricsSources | null = null;
  #recent: RecentValues | null = null;
  #registries: { readonly text: Registry; readonly openMetrics: Registry<OpenMetricsContentType> } | null = null;

  constructor(config: MetricsConfig) {
    this.#config = config;
    this.ingest = new IngestMeter(config.databaseLabelsMax);
    const meter = this.mainThread.claim(0);
    this.#stopVitals = startThreadVitals(meter.gauge('eventLoopLagSeconds'), meter.gauge('heapUsedBytes'));
  }

  /** A compaction job ended (Compactor's onJobEnded). */
  readonly compactionEnded = (job: CompactionJob, result: JobResult): void => {
    this.compaction.jobs.add([result]);
    if (result !== 'succeeded') return;
    this.compaction.bytesRead += job.inputBytes;
    this.compaction.bytesWritten += job.outputBytes ?? 0;
  };

  /** Builds the registries over the server's parts; scrapes answer from then on. */
  expose(sources: Omit<MetricsSources, 'requests' | 'ingest' | 'compaction' | 'mainThread'>): void {
    const all: MetricsSources = { ...sources, requests: this.requests, ingest: this.ingest, compaction: this.compaction, mainThread: this.mainThread };
    const build = <T extends Registry | Registry<OpenMetricsContentType>>(registry: T): T => {
      collectDefaultMetrics({ register: registry });
      // Arc's series are plain objects with prom-client's metric shape (name, help, type, get()).
      for (const series of exposedSeries(arcSeries(all, SYNC_LATENCY_BUCKETS_MS))) registry.registerMetric(series as unknown as Metric);
      return registry;
    };
    const openMetrics = new Registry<OpenMetricsContentType>();
    openMetrics.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    this.#registries = { text: build(new Registry()), openMetrics: build(openMetrics) };
    this.#sources = all;
    this.#recent = new RecentValues(timeseriesReaders(all), this.#config.timeseriesIntervalSeconds * 1000, this.#config.timeseriesPoints);
  }

  /** The console's recent values (null until exposed). */
  get recent(): RecentValues | null {
    return this.#recent;
  }

  /** Process memory, each thread's heap and event-loop lag, DuckDB's memory per thread (GET /metrics/memory). */
  memory(): Record<string, unknown> {
    const usage = process.memoryUsage();
    const sources = this.#sources;
    const heaps = sources === null ? [] : threadGauge(sources, 'heapUsedBytes');
    const lags = sources === null ? [] : threadGauge(sources, 'eventLoopLagSeconds');
    const duckdb = sources === null ? [] : duckdbMemory(sources);
    return {
      process: { rss_bytes: usage.rss, heap_total_bytes: usage.heapTotal, heap_used_bytes: usage.heapUsed, external_bytes: usage.external, array_buffers_bytes: usage.arrayBuffers },
      threads: heaps.map((sample, index) => ({ thread: sample.labels.thread, heap_used_bytes: sample.value, event_loop_lag_ms: Math.round((lags[index]?.value ?? 0) * 1e6) / 1000 })),
      duckdb: duckdb.map((sample) => ({ thread: sample.labels.thread, memory_bytes: sample.value })),
      duckdb_total_bytes: duckdb.reduce((total, sample) => total + sample.value, 0),
    };
  }

  async render(format: MetricsFormat): Promise<RenderedMetrics> {
    const registries = this.#registries;
    if (registries === null) return { contentType: Registry.PROMETHEUS_CONTENT_TYPE, body: '' };
    if (format === 'openmetrics') return { contentType: Registry.OPENMETRICS_CONTENT_TYPE, body: spellNaN(await registries.openMetrics.metrics()) };
    if (format === 'json') return { contentType: 'application/json', body: JSON.stringify(await registries.text.getMetricsAsJSON()) };
    return { contentType: Registry.PROMETHEUS_CONTENT_TYPE, body: spellNaN(await registries.text.metrics()) };
  }

  close(): void {
    this.#stopVitals();
    this.#recent?.stop();
  }
}

/**
 * prom-client 15 writes a NaN value as `Nan` (nodejs_eventloop_lag_*_seconds before the first
 * sample); both formats spell it `NaN`, and OpenMetrics parsers are case-sensitive.
 */
function spellNaN(body: string): string {
  // A plain search first: a multiline regex over every line cost about 1 ms per scrape.
  return body.includes(' Nan\n') ? body.replaceAll(' Nan\n', ' NaN\n') : body;
}

/** The console's time series types and what each samples (totals; the console derives rates). */
function timeseriesReaders(sources: MetricsSources): TimeseriesReaders {
  const { ingest, requests, pipeline, queryPool } = sources;
  const sum = (values: readonly number[]): number => values.reduce((total, value) => total + value, 0);
  return {
    ingest: () => ({ requests_total: ingest.requests.total(), rows_total: ingest.rows.total(), bytes_total: ingest.bytes.total(), rejects_total: ingest.rejects.total(), in_flight: pipeline.inFlight }),
    query: () => {
      const stats = queryPool.stats();
      return { requests_total: requests.queries.total(), errors_total: requests.queryErrors.total(), rows_returned_total: stats.rowsReturned, running: stats.running, queued: stats.queued };
    },
    writer: () => {
      const writers = pipeline.telemetry.writers;
      return { buffered_rows: sum(writers.gaugeByThread('bufferedRows')), buffered_bytes: sum(writers.gaugeByThread('bufferedBytes')), flushes_total: writers.counterTotal('flushes') };
    },
    memory: () => {
      const usage = process.memoryUsage();
      return { rss_bytes: usage.rss, heap_used_bytes: usage.heapUsed, duckdb_bytes: sum(duckdbMemory(sources).map((sample) => sample.value)) };
    },
    http: () => ({ requests_total: requests.requests.total() }),
  };
}
