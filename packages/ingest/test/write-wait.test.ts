// Proves the pipeline's waiting with its real threads in-process: writes that no ring can take
// wait and are all handed over and accepted as rings drain, each answered exactly once; a write
// past the in-flight bound is refused at once, and its caller woken (whenRoom) when room is made; and a stop answers every write still waiting
// (503 ARC_INGEST_STOPPED_WAITING) while those already handed over are accepted, none dropped.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Packr } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Storage } from '@arc/storage';
import { loadConfig } from '@arc/config';
import { PayloadFormat, type Completion } from '../src/frames.js';
import { IngestPipeline } from '../src/ingest-pipeline.js';
import { IngestErrorCode } from '../src/ingest-error-codes.js';
import type { Logger } from '../src/logger.js';

/** 10,000 rows of time and a float: ~180 KB, so a 1 MiB ring (frames up to 256 KiB) holds a few. */
const ROWS_PER_WRITE = 10_000;
const WRITES = 40;

let directory = '';
beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'arc-wait-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

const quiet: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

function body(): Uint8Array {
  const rows = Array.from({ length: ROWS_PER_WRITE }, (_, index) => index);
  return new Packr({ useRecords: false }).pack({ m: 'wait', columns: { time: rows.map((row) => 1_700_000_000_000 + row), v: rows.map((row) => row + 0.5) } });
}

async function start(env: Record<string, string>): Promise<IngestPipeline> {
  const config = loadConfig({ cwd: directory, env: { ARC_DATA_DIR: directory, ARC_INGEST_DECODERS: '1', ARC_INGEST_RING_MB: '1', ARC_WRITER_THREADS: '1', ...env } });
  return IngestPipeline.start(config, quiet, null, await Storage.open({ root: config.storage.parquetRoot }));
}

/** Submits `count` writes at once; each promise resolves with its one answer ('busy' when refused at once). */
function submitAll(pipeline: IngestPipeline, count: number): { answers: Promise<Completion | 'busy'>[]; answeredTwice: () => number } {
  const payload = body();
  let twice = 0;
  const answers = Array.from({ length: count }, () => {
    let answered = false;
    return new Promise<Completion | 'busy'>((resolve) => {
      const outcome = pipeline.submit({ format: PayloadFormat.msgpack, database: 'db', nowUs: Date.now() * 1000, precision: 'ns' }, payload, (completion) => {
        if (answered) twice++;
        answered = true;
        resolve(completion);
      });
      if (outcome === 'busy') resolve('busy');
    });
  });
  return { answers, answeredTwice: () => twice };
}

describe('IngestPipeline waiting for room', () => {
  it('hands every waiting write over as the ring drains, and accepts all of them', async () => {
    const pipeline = await start({});
    const { answers, answeredTwice } = submitAll(pipeline, WRITES);
    // Submitted in one synchronous loop: one decoder cannot have taken 40 x 180 KB through a 1 MiB ring.
    expect(pipeline.writesParked).toBeGreaterThan(0);
    expect(pipeline.writeBytesHeld).toBe(WRITES * body().byteLength);
    const completions = await Promise.all(answers);
    expect(completions.map((answer) => (answer === 'busy' ? 'busy' : answer.error))).toEqual(Array.from({ length: WRITES }, () => null));
    expect(completions.reduce((rows, answer) => rows + (answer === 'busy' ? 0 : answer.rowCount), 0)).toBe(WRITES * ROWS_PER_WRITE);
    expect(answeredTwice()).toBe(0);
    expect(pipeline.writesParked).toBe(0);
    expect(pipeline.writeBytesHeld).toBe(0);
    expect(await pipeline.shutdown()).toEqual({ flushError: null, rowsUnflushed: 0, writersUnreported: 0 });
  });

  it('refuses a write at once when the bodies held would pass ingest.in_flight_max_mb', async () => {
    const pipeline = await start({ ARC_INGEST_IN_FLIGHT_MAX_MB: '1' });
    const { answers } = submitAll(pipeline, 10);
    const outcomes = await Promise.all(answers);
    // 1 MiB holds five bodies of ~180 KB: the other five are refused.
    expect(outcomes.filter((answer) => answer === 'busy')).toHaveLength(5);
    for (const answer of outcomes) if (answer !== 'busy') expect(answer.error).toBeNull();
    expect(pipeline.writeBytesHeld).toBe(0);
    await pipeline.shutdown();
  });

  it('wakes a caller refused as busy (whenRoom) once a held write is answered, so every write offered again is accepted', async () => {
    const pipeline = await start({ ARC_INGEST_IN_FLIGHT_MAX_MB: '1' });
    const payload = body();
    let accepted = 0;
    let busyWaits = 0;
    // Each write is offered until the pipeline takes it, waiting for room after a 'busy': no timer.
    const offer = (): Promise<void> =>
      new Promise((resolve, reject) => {
        const outcome = pipeline.submit({ format: PayloadFormat.msgpack, database: 'db', nowUs: Date.now() * 1000, precision: 'ns' }, payload, (completion) => {
          if (completion.error !== null) return reject(new Error(completion.error.message));
          accepted += completion.rowCount;
          resolve();
        });
        if (outcome === 'busy') {
          busyWaits += 1;
          expect(pipeline.writeBytesHeld).toBeGreaterThan(0);
          void pipeline.whenRoom().then(() => offer().then(resolve, reject));
        }
      });
    await Promise.all(Array.from({ length: 12 }, offer));
    expect(busyWaits).toBeGreaterThan(0);
    expect(accepted).toBe(12 * ROWS_PER_WRITE);
    expect(pipeline.writeBytesHeld).toBe(0);
    // Nothing held: room at once.
    await pipeline.whenRoom();
    await pipeline.shutdown();
  });

  it('on stop, answers every write still waiting with 503 and accepts those already handed over', async () => {
    const pipeline = await start({});
    const { answers, answeredTwice } = submitAll(pipeline, WRITES);
    const parked = pipeline.writesParked;
    expect(parked).toBeGreaterThan(0);
    const report = await pipeline.shutdown();
    const completions = await Promise.all(answers);
    const codes = completions.map((answer) => (answer === 'busy' ? 'busy' : (answer.error?.code ?? 'accepted')));
    expect(codes.filter((code) => code === IngestErrorCode.stoppedWhileWaiting)).toHaveLength(parked);
    expect(codes.filter((code) => code === 'accepted')).toHaveLength(WRITES - parked);
    const refused = completions.find((answer): answer is Completion => answer !== 'busy' && answer.error !== null);
    expect(refused?.error).toMatchObject({ kind: 'unavailable' });
    expect(answeredTwice()).toBe(0);
    // Everything accepted was flushed by the stop.
    expect(report).toEqual({ flushError: null, rowsUnflushed: 0, writersUnreported: 0 });
  });
});
