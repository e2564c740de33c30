import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { Config } from '@arc/config';
import { Doorbell } from '@arc/ring';
import { openStorageBackend } from '@arc/storage';
import { FlushJournal } from '@arc/wal';
import { ageCheckIntervalMs } from './flush-policy.js';
import { ParquetEncoder, parquetColumnsOf } from './parquet-encoder.js';
import { MEASUREMENT_EVENTS_PER_MESSAGE_MAX, MEASUREMENT_EVENTS_WAIT_MS } from './limits.js';
import { MeasurementCensus } from './measurement-census.js';
import { WriterCore } from './writer-core.js';
import type { DecoderToWriter, MainToWriter, MeasurementEvent, WalCoveredNotice, WriterToMain } from './writer-messages.js';

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
  const core = new WriterCore({
    writerIndex: data.writerIndex,
    policy: { flushRows: writer.flushRows, flushBytesMax: writer.flushBytesMax, flushAgeMs: writer.flushAgeMs },
    bytesBufferedMax: Math.floor(writer.bufferBytesMax / data.writerCount),
    storage: store,
    encoder,
    onFlushed: (database, measurement, files) => queueEvent({ kind: 'flushed', database, measurement, files }),
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
      const verdict = core.handle(decoderIndex, message);
      if (verdict === null) return;
      decoderPort.postMessage(verdict);
      doorbells[decoderIndex]?.ring();
    });
  });
  const ageTimer = setInterval(() => core.tick(), ageCheckIntervalMs(core.policy));
  port.on('message', (message: MainToWriter) => {
    switch (message.kind) {
      case 'flush-all':
        void core.flushAll().then((error) => send({ kind: 'flush-all-done', requestId: message.requestId, error: error?.toShape() ?? null }));
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
      case 'shutdown':
        clearInterval(ageTimer);
        for (const decoderPort of data.decoderPorts) decoderPort.close();
        // A retry of a failed flush may be under way: the encoder closes once it has ended.
        void core.stop().then(() => {
          encoder.close();
          journal?.close();
          send({ kind: 'closed', rowsUnflushed: core.stats().rowsBuffered });
          port.close();
        });
        return;
    }
  });
  send({ kind: 'ready', writerIndex: data.writerIndex });
}

void main();
