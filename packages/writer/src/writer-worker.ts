import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { Config } from '@arc/config';
import type { ColumnBatch } from '@arc/columnar';
import { Doorbell } from '@arc/ring';
import { openStorageBackend } from '@arc/storage';
import { FlushJournal } from '@arc/wal';
import { DUCKDB_MEMORY_SAMPLE_MS, startThreadVitals, TelemetryBlock, VITALS_SAMPLE_MS } from '@arc/telemetry';
import { ageCheckIntervalMs } from './flush-policy.js';
import { ParquetEncoder, parquetColumnsOf } from './parquet-encoder.js';
import type { MeterOf } from '@arc/telemetry';
import { MEASUREMENT_EVENTS_PER_MESSAGE_MAX, MEASUREMENT_EVENTS_WAIT_MS } from './limits.js';
import { MeasurementCensus } from './measurement-census.js';
import { WriterCore } from './writer-core.js';
import type { BatchBuffersReturned, DecoderToWriter, MainToWriter, MeasurementEvent, WalCoveredNotice, WriterToMain } from './writer-messages.js';
import { WRITER_TELEMETRY } from './writer-telemetry.js';

/** What the main thread hands a writer thread at start. */
export interface WriterWorkerData {
  readonly writerIndex: number;
  readonly writerCount: number;
  readonly config: Config;
  /** One port per decoder (index = decoder index), and that decoder's doorbell. */
  readonly decoderPorts: readonly MessagePort[];
  readonly decoderDoorbells: readonly SharedArrayBuffer[];
  /** The measurement census every writer shares (MeasurementCensus.shared). */
  readonly census: SharedArrayBuffer;
  /** The writers' telemetry buffer (WRITER_TELEMETRY); this thread writes block `writerIndex`. */
  readonly telemetry: SharedArrayBuffer;
}

/**
 * Writer thread entry: owns one DuckDB encoder and the buffers of the (database, measurement)
 * pairs that hash to it. Decoders reach it through their ports; after each verdict it rings the
 * decoder's doorbell, because decoders sleep in Atomics.wait rather than in an event loop.
 */
async function main(): Promise<void> {
  assert.ok(parentPort !== null, 'writer-worker runs as a worker thread');
  const port = parentPort;
  const data = workerData as WriterWorkerData;
  // Measurement events are gathered for a few milliseconds (or up to a count) and go as one
  // message; any other message sends them first, so a flush-all reply never overtakes the events
  // of its flush.
  let events: MeasurementEvent[] = [];
  let eventTimer: NodeJS.Timeout | null = null;
  const sendEvents = (): void => {
    if (eventTimer !== null) clearTimeout(eventTimer);
    eventTimer = null;
    if (events.length === 0) return;
    port.postMessage({ kind: 'measurements', events } satisfies WriterToMain);
    events = [];
  };
  const queueEvent = (event: MeasurementEvent): void => {
    events.push(event);
    if (events.length >= MEASUREMENT_EVENTS_PER_MESSAGE_MAX) sendEvents();
    else eventTimer ??= setTimeout(sendEvents, MEASUREMENT_EVENTS_WAIT_MS);
  };
  const send = (message: WriterToMain): void => {
    sendEvents();
    port.postMessage(message);
  };
  const { writer, storage } = data.config;
  const store = openStorageBackend(storage);
  let encoder: ParquetEncoder;
  try {
    encoder = await ParquetEncoder.create({
      staged: store,
      threads: writer.duckdbThreads,
      compression: writer.compression,
      rowGroupSize: writer.rowGroupSize,
      tempDirectory: `${storage.dataDir}/tmp/writer-${data.writerIndex}`,
    });
  } catch (error) {
    send({ kind: 'init-failed', message: `writer ${data.writerIndex}: ${(error as Error).message}` });
    return;
  }
  let journal: FlushJournal | undefined;
  try {
    if (data.config.wal.enabled) journal = FlushJournal.openSync(data.config.wal.dir, data.writerIndex);
  } catch (error) {
    send({ kind: 'init-failed', message: `writer ${data.writerIndex}: cannot open its WAL flush journal: ${(error as Error).message}` });
    return;
  }
  const doorbells = data.decoderDoorbells.map((shared) => new Doorbell(shared));
  const meter = new TelemetryBlock(WRITER_TELEMETRY, data.telemetry).claim(data.writerIndex);
  const flushSeconds = meter.histogram('flushSeconds');
  const fileSizeBytes = meter.histogram('fileSizeBytes');
  // The decoder that packed each buffered batch's buffer: published batches go back to it.
  const packedBy = new WeakMap<ArrayBuffer, number>();
  const returnBatchBuffers = (batches: readonly ColumnBatch[]): void => {
    const byDecoder = new Map<number, ArrayBuffer[]>();
    for (const { buffer } of batches) {
      const decoderIndex = packedBy.get(buffer);
      if (decoderIndex === undefined) continue;
      packedBy.delete(buffer);
      const list = byDecoder.get(decoderIndex);
      if (list === undefined) byDecoder.set(decoderIndex, [buffer]);
      else list.push(buffer);
    }
    // No doorbell: the decoder takes them with its next verdict or frame.
    for (const [decoderIndex, buffers] of byDecoder) data.decoderPorts[decoderIndex]?.postMessage({ kind: 'batch-buffers', buffers } satisfies BatchBuffersReturned, buffers);
  };
  const core = new WriterCore({
    writerIndex: data.writerIndex,
    policy: { flushRows: writer.flushRows, flushBytesMax: writer.flushBytesMax, flushAgeMs: writer.flushAgeMs },
    bytesBufferedMax: Math.floor(writer.bufferBytesMax / data.writerCount),
    storage: store,
    encoder,
    onFlushed: (database, measurement, files) => queueEvent({ kind: 'flushed', database, measurement, files }),
    onFlushTimed: (seconds, files) => {
      flushSeconds.observe(seconds);
      for (const file of files) fileSizeBytes.observe(file.byteCount);
    },
    onBatchesPublished: returnBatchBuffers,
    onSchema: (database, measurement, schema) => queueEvent({ kind: 'schema', database, measurement, columns: parquetColumnsOf(schema) }),
    log: (level, message) => send({ kind: 'log', level, message: `writer ${data.writerIndex}: ${message}` }),
    nowMs: () => performance.now(),
    census: new MeasurementCensus(data.census, storage.parquetRoot),
    measurementsPerDatabaseMax: data.config.ingest.measurementsPerDatabaseMax,
    ...(journal === undefined ? {} : { journal }),
    // A WAL stream is a decoder index: its decoder deletes segments once they are covered. A
    // stream with no decoder now (fewer decoders than before a restart) is replayed and deleted
    // by recovery instead.
    onWalCovered: (stream, database, measurement, seqMax) => {
      const decoderPort = data.decoderPorts[stream];
      if (decoderPort === undefined) return;
      decoderPort.postMessage({ kind: 'wal-covered', database, measurement, seqMax } satisfies WalCoveredNotice);
      doorbells[stream]?.ring();
    },
  });
  data.decoderPorts.forEach((decoderPort, decoderIndex) => {
    decoderPort.on('message', (message: DecoderToWriter) => {
      if (message.kind === 'append' || message.kind === 'prepare') for (const batch of message.batches) packedBy.set(batch.buffer, decoderIndex);
      const verdict = core.handle(decoderIndex, message);
      if (verdict === null) return;
      decoderPort.postMessage(verdict);
      doorbells[decoderIndex]?.ring();
    });
  });
  const ageTimer = setInterval(() => core.tick(), ageCheckIntervalMs(core.policy));
  const stopPublishing = publishWriterTelemetry(meter, core, encoder);
  port.on('message', (message: MainToWriter) => {
    switch (message.kind) {
      case 'flush-all':
        void core.flushAll().then((error) => send({ kind: 'flush-all-done', requestId: message.requestId, error: error?.toShape() ?? null }));
        return;
      case 'flush-measurement':
        void core.flushMeasurement(message.database, message.measurement).then((error) => send({ kind: 'flush-done', requestId: message.requestId, error: error?.toShape() ?? null }));
        return;
      case 'stats':
        send({ kind: 'stats', requestId: message.requestId, stats: core.stats() });
        return;
      case 'delete-begin':
        void core.beginDelete(message.database, message.measurement).then((error) => send({ kind: 'delete-ready', requestId: message.requestId, error: error?.toShape() ?? null }));
        return;
      case 'delete-end':
        core.endDelete(message.database, message.measurement);
        return;
      case 'last-cache':
        send({ kind: 'last-cache-done', requestId: message.requestId, tables: core.lastCache(message.request) });
        return;
      case 'shutdown': {
        clearInterval(ageTimer);
        const published = stopPublishing();
        for (const decoderPort of data.decoderPorts) decoderPort.close();
        // A retry of a failed flush may be under way: the encoder closes once it has ended.
        void Promise.all([core.stop(), published]).then(() => {
          encoder.close();
          journal?.close();
          send({ kind: 'closed', rowsUnflushed: core.stats().rowsBuffered });
          port.close();
        });
        return;
      }
    }
  });
  send({ kind: 'ready', writerIndex: data.writerIndex });
}

/**
 * Publishes the writer's gauges and counters into its telemetry block: vitals every
 * VITALS_SAMPLE_MS, buffered rows and bytes and the flush counters on the same timer, DuckDB's
 * memory every DUCKDB_MEMORY_SAMPLE_MS. Returns the stop, which resolves once no memory read runs.
 */
function publishWriterTelemetry(meter: MeterOf<typeof WRITER_TELEMETRY>, core: WriterCore, encoder: ParquetEncoder): () => Promise<void> {
  const stopVitals = startThreadVitals(meter.gauge('eventLoopLagSeconds'), meter.gauge('heapUsedBytes'));
  const rows = meter.gauge('bufferedRows');
  const bytes = meter.gauge('bufferedBytes');
  const memory = meter.gauge('duckdbMemoryBytes');
  const mirrored = { flushes: meter.counter('flushes'), flushFailures: meter.counter('flushFailures'), filesWritten: meter.counter('filesWritten'), rowsFlushed: meter.counter('rowsFlushed') };
  const seen = { flushes: 0, flushFailures: 0, filesWritten: 0, rowsFlushed: 0 };
  let reading: Promise<void> = Promise.resolve();
  let memoryReadAtMs = Number.NEGATIVE_INFINITY;
  let readInFlight = false;
  const sample = (): void => {
    const stats = core.stats();
    rows.set(stats.rowsBuffered);
    bytes.set(stats.bytesBuffered);
    for (const key of Object.keys(seen) as (keyof typeof seen)[]) {
      mirrored[key].add(stats[key] - seen[key]);
      seen[key] = stats[key];
    }
    // One read at a time (a slow one must not overlap the next on the stats connection), and the
    // stop below waits for the one in flight before the encoder closes.
    if (readInFlight || performance.now() - memoryReadAtMs < DUCKDB_MEMORY_SAMPLE_MS) return;
    memoryReadAtMs = performance.now();
    readInFlight = true;
    reading = encoder.memoryBytes().then((value) => memory.set(value), () => undefined).finally(() => (readInFlight = false));
  };
  sample();
  const timer = setInterval(sample, VITALS_SAMPLE_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    stopVitals();
    return reading;
  };
}

void main();
