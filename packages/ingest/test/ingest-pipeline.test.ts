// Proves the ingest pipeline never leaves a request or a shutdown hanging on a dead thread: a
// decoder that dies is reported as fatal, new requests go around it, and shutdown still ends; and
// that requests go to one decoder per CPU, not to the extra decoders (the decoders' own counters).
// Runs the real threads in-process (their files come from dist/: `make test` builds first).
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { Packr } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Storage } from '@arc/storage';
import { loadConfig } from '@arc/config';
import { PayloadFormat } from '../src/frames.js';
import { IngestPipeline, preferredDecoders } from '../src/ingest-pipeline.js';
import type { Logger } from '../src/logger.js';
import type { Completion } from '../src/frames.js';

let directory = '';
beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'arc-pipeline-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

/** A logger keeping error lines only (what the server's logger at level 'error' would print). */
function errorsInto(lines: string[]): Logger {
  const ignore = (): void => undefined;
  return { debug: ignore, info: ignore, warn: ignore, error: (message) => lines.push(message) };
}

function submit(pipeline: IngestPipeline, body: Uint8Array): Promise<Completion> {
  return new Promise((resolve, reject) => {
    const outcome = pipeline.submit({ format: PayloadFormat.msgpack, database: 'default', nowUs: Date.now() * 1000, precision: 'ns' }, body, resolve);
    if (outcome === 'busy') reject(new Error('busy'));
  });
}

describe('IngestPipeline', () => {
  it('reports a dead decoder as fatal, routes around it, and still shuts down', async () => {
    const config = loadConfig({ cwd: directory, env: { ARC_DATA_DIR: directory, ARC_INGEST_DECODERS: '2', ARC_WRITER_THREADS: '1' } });
    const lines: string[] = [];
    const pipeline = await IngestPipeline.start(config, errorsInto(lines), null, await Storage.open({ root: config.storage.parquetRoot }));
    const fatal: string[] = [];
    const reported = new Promise<void>((resolve) => pipeline.onFatal(() => resolve()));
    pipeline.onFatal((reason) => fatal.push(reason));
    const body = new Packr({ useRecords: false }).pack({ m: 'cpu', t: 1_700_000_000_000, fields: { v: 1 } });
    expect((await submit(pipeline, body)).error).toBeNull();

    const decoders = (pipeline as unknown as { decoders: { worker: { terminate(): Promise<number> } }[] }).decoders;
    await decoders[0]?.worker.terminate();
    await reported;
    expect(fatal).toEqual([expect.stringMatching(/decoder 0 exited unexpectedly/)]);

    for (let request = 0; request < 4; request++) {
      const completion = await submit(pipeline, body);
      expect(completion.error).toBeNull();
      expect(completion.rowCount).toBe(1);
    }
    expect(await pipeline.shutdown()).toEqual({ flushError: null, rowsUnflushed: 0, writersUnreported: 0 });
  });

  it('hands requests to one decoder per CPU and leaves the extra decoders idle while those keep up', async () => {
    const cpus = availableParallelism();
    const config = loadConfig({ cwd: directory, env: { ARC_DATA_DIR: directory, ARC_INGEST_DECODERS: String(cpus + 2), ARC_WRITER_THREADS: '1' } });
    const pipeline = await IngestPipeline.start(config, errorsInto([]), null, await Storage.open({ root: config.storage.parquetRoot }));
    const body = new Packr({ useRecords: false }).pack({ m: 'cpu', t: 1_700_000_000_000, fields: { v: 1 } });
    for (let request = 0; request < 2 * cpus + 1; request++) expect((await submit(pipeline, body)).error).toBeNull();
    const decoded = pipeline.telemetry.decoders.counterByThread('requestsDecoded');
    // One at a time, the preferred decoders take turns: each got two, the extra two none.
    expect(decoded.slice(0, cpus).every((count) => count >= 2)).toBe(true);
    expect(decoded.slice(cpus)).toEqual([0, 0]);
    expect(await pipeline.shutdown()).toEqual({ flushError: null, rowsUnflushed: 0, writersUnreported: 0 });
  });

  it('prefers one decoder per CPU, with the WAL on or off (syncs run on the sync threads)', () => {
    expect(preferredDecoders()).toBe(availableParallelism());
  });
});
