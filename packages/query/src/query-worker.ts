/**
 * Piscina worker: owns one DuckDB instance (QueryEngine) for its whole life. The engine opens
 * when the module loads, so the instance is ready before the first query; a failure to open is
 * answered to every task as an error instead of crashing the thread (piscina would respawn a
 * crashing worker forever).
 */
import assert from 'node:assert/strict';
import { parentPort, workerData } from 'node:worker_threads';
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { ArcError, ErrorKind, isArcError } from '@arc/errors';
import type { ArcErrorShape } from '@arc/errors';
import { CachePortClient } from './cache-port.js';
import { QueryErrorCode } from './error-codes.js';
import { QueryEngine } from './query-engine.js';
import { compressAnswer } from './answer-compression.js';
import { answerTransferList, enableSharedAnswers, releaseAnswerBody } from './answer-buffers.js';
import type { TaskResult, WorkerConfig, WorkerTask } from './task-messages.js';
import { startThreadVitals, TelemetryBlock } from '@arc/telemetry';
import { QUERY_TELEMETRY } from './query-telemetry.js';
import { ControlBlock } from './control-block.js';

function toShape(error: unknown): ArcErrorShape {
  if (isArcError(error)) return error.toShape();
  const message = error instanceof Error ? error.message : String(error);
  return new ArcError(ErrorKind.internal, QueryErrorCode.engine, message).toShape();
}

function readConfig(data: unknown): WorkerConfig {
  assert.ok(typeof data === 'object', 'query worker needs workerData');
  assert.ok(data !== null, 'query worker needs workerData');
  const config = data as WorkerConfig;
  assert.ok(config.control instanceof SharedArrayBuffer, 'query worker needs the control block');
  return config;
}

/**
 * On an object store, the thread's cache port (cache-port.ts), posted to the pool before
 * piscina's own ready message: its tasks ask on it for their files. None on local disk.
 */
function openCachePort(config: WorkerConfig): CachePortClient | null {
  if (!config.cachePort) return null;
  assert.ok(parentPort !== null, 'the query worker runs in a worker thread');
  const { client, message } = CachePortClient.create();
  parentPort.postMessage(message, [message.port]);
  return client;
}

const config = readConfig(workerData);
const opening: Promise<QueryEngine | ArcErrorShape> = QueryEngine.open(config, openCachePort(config)).catch(toShape);

/**
 * Publishes this thread's vitals and, every `memorySampleMs`, its DuckDB memory into the
 * block it claims (none left: it publishes nothing). The timers never keep the thread alive. Each
 * memory read is announced in the control block: the pool ends this thread only once none runs.
 */
function publishTelemetry(config: WorkerConfig): void {
  const meter = new TelemetryBlock(QUERY_TELEMETRY, config.telemetry).claimAny();
  if (meter === null) return;
  startThreadVitals(meter.gauge('eventLoopLagSeconds'), meter.gauge('heapUsedBytes'));
  const memory = meter.gauge('duckdbMemoryBytes');
  void opening.then((engine) => {
    if (engine instanceof QueryEngine) engine.useSeriesMeter({ answers: meter.counter('seriesWindows'), cacheBytes: meter.gauge('seriesCacheBytes') });
  });
  const control = new ControlBlock(config.control);
  // One read at a time: two statements at once on the one stats connection abort the thread.
  let reading = false;
  const sample = (): void => {
    if (reading || !control.beginBackgroundRead()) return;
    reading = true;
    void opening
      .then((engine) => (engine instanceof QueryEngine ? engine.memoryBytes() : 0))
      .then((bytes) => memory.set(bytes), () => undefined)
      .finally(() => {
        reading = false;
        control.endBackgroundRead();
      });
  };
  sample();
  setInterval(sample, config.memorySampleMs).unref();
}

publishTelemetry(config);

/**
 * The answer bytes reach the main thread without a copy: a buffer of their own is transferred,
 * a lent shared buffer is just posted (the main thread hands it back, see answer-buffers.ts).
 */
function moved(result: TaskResult & { ok: true }): unknown {
  return move({ [transferableSymbol]: answerTransferList(result.body), [valueSymbol]: result });
}

enableSharedAnswers();

export default async function handleTask(task: WorkerTask): Promise<unknown> {
  const engine = await opening;
  if (!(engine instanceof QueryEngine)) return { ok: false, error: engine } satisfies TaskResult;
  const empty = { ok: true, body: new Uint8Array(0), rowCount: 0, reads: [], cacheable: false, contentEncoding: null } as const;
  if (task.kind === 'ping') return empty satisfies TaskResult;
  try {
    if (task.kind === 'stream') {
      const rowCount = await engine.stream(task);
      return { ...empty, rowCount } satisfies TaskResult;
    }
    const answer = await engine.run(task);
    const compressed = task.kind === 'query' && task.format !== 'arrow' ? compressAnswer(answer.body, task.compression) : null;
    const contentEncoding = compressed === null || task.kind !== 'query' || task.compression === 'none' ? null : task.compression;
    // The compressed copy is what goes out: the encoded answer's (possibly lent) buffer is free again.
    if (compressed !== null) releaseAnswerBody(answer.body);
    const body = compressed ?? answer.body;
    return moved({ ok: true, body, rowCount: answer.rowCount, reads: answer.reads, cacheable: answer.cacheable, contentEncoding });
  } catch (error) {
    return { ok: false, error: toShape(error) } satisfies TaskResult;
  }
}
