// Proves a server's stop never waits for a merge: the runner's terminate stops a merge in flight
// between two pieces of DuckDB work (its run rejects with ARC_COMPACTION_JOB_FAILED, the thread
// ends cleanly: never killed mid-DuckDB, which could take the process down), a merge held while
// ingest is busy finishes once the pause is lifted, or stops at once while paused, and a compactor closed
// while a job is starting fails that job without merging and leaves every input in place.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Storage } from '@arc/storage';
import { Compactor, MergeRunner } from '../src/index.js';
import { useMergeFixture } from './merge-fixtures.js';
import { TEST_COMPACTION_CONFIG } from './support/compaction-config.js';
import { putFile, readRows } from './support/parquet-files.js';
import { tempDirectory } from '../../../test/support/temp-dir.js';

const fixture = useMergeFixture('arc-merge-stop-');

describe('stopping compaction', () => {
  it('ends a merge in flight when the runner is terminated', async () => {
    const input = await fixture.writeInput('big.parquet', "SELECT 'h' || (i % 50)::VARCHAR AS host, make_timestamp(i::BIGINT) AS time, random() AS v FROM range(3000000) t(i)", ['host']);
    const runner = await MergeRunner.start({ memoryLimit: '256MB', threads: 1, nice: 0, tempDirectory: path.join(fixture.root, 'spill-stop') });
    const running = expect(runner.run(fixture.task([input]))).rejects.toMatchObject({ code: 'ARC_COMPACTION_JOB_FAILED', message: /the merge was stopped/ });
    await runner.terminate();
    await running;
    await expect(runner.run(fixture.task([input]))).rejects.toMatchObject({ code: 'ARC_COMPACTION_JOB_FAILED' });
  });

  it('finishes a merge once its pause is lifted, and stops a paused one at once', async () => {
    const input = await fixture.writeInput('held.parquet', "SELECT 'h' || (i % 5)::VARCHAR AS host, make_timestamp(i::BIGINT) AS time, i::DOUBLE AS v FROM range(1000) t(i)", ['host']);
    const runner = await MergeRunner.start({ memoryLimit: '256MB', threads: 1, nice: 0, tempDirectory: path.join(fixture.root, 'spill-held') });
    runner.setPaused(true);
    const held = runner.run(fixture.task([input]));
    runner.setPaused(false);
    await expect(held).resolves.toMatchObject({ outputRows: 1000 });
    runner.setPaused(true);
    const stopped = expect(runner.run(fixture.task([input]))).rejects.toMatchObject({ message: /the merge was stopped/ });
    // A paused merge wakes for the stop: no wait for a resume that never comes.
    await runner.terminate();
    await stopped;
  });

  it('fails a job that was starting when the compactor closed, leaving its inputs as they were', async () => {
    // One level down: the history and temp files the compactor keeps beside the root are in the temp directory too.
    const root = path.join(await tempDirectory('arc-compactor-stop-'), 'store');
    const storage = await Storage.open({ root });
    const hourUs = Date.parse('2026-01-10T09:00:00Z') * 1000;
    for (let sequence = 1; sequence <= 2; sequence++) {
      await putFile(storage, { sequence, writtenAtMs: Date.now() - 10_000 + sequence, rows: [{ host: 'a', timeUs: hourUs + sequence, usage_user: sequence, usage_idle: 0 }] });
    }
    const before = await readRows(storage);
    const closing: { stopped: Promise<void> | null } = { stopped: null };
    const compactor = Compactor.open({
      storage,
      config: { ...TEST_COMPACTION_CONFIG, leaseSeconds: 60 },
      historyPath: path.join(root, '..', `${path.basename(root)}-history.db`),
      tempDirectory: path.join(root, '..', `${path.basename(root)}-tmp`),
      queriesEnded: () => Promise.resolve(),
      log: () => undefined,
      onStep: (step) => {
        if (step === 'leased') closing.stopped = compactor.close();
      },
    });
    const [job] = await compactor.trigger({ tier: 'hourly' });
    expect(job).toBeDefined();
    await compactor.idle();
    expect(closing.stopped).not.toBeNull();
    await closing.stopped;
    expect(storage.catalog.files('db', 'cpu')).toHaveLength(2);
    expect(await readRows(storage)).toEqual(before);
  });
});
