// Proves RetentionService on a real store and merge threads: policies are created, listed,
// updated and deleted through it (400 naming a bad field, 409 for a taken name, 404 for an
// unknown id); a dry run and a run are each recorded in the executions history (the run as the
// policy's last run), two runs asked at once run one after the other, and the `[retention]
// schedule` runs every active policy (not an inactive one) by itself; a bad schedule is refused.
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { waitUntil } from '../../../test/support/poll-until.js';
import { ArcError, ErrorKind } from '@arc/errors';
import { CompactionErrorCode, RetentionErrorCode, RetentionService } from '../src/index.js';
import { putFile, readRows, type TestRow } from './support/parquet-files.js';
import { openRewriteStore } from './support/rewrite-store.js';

const HOUR_US = 3_600_000_000;
const SECOND_US = 1_000_000;
/** Files from 20 days ago: older than any policy of 1 day + 0 buffer days. */
const OLD_US = (Math.floor(Date.now() / 3_600_000) * 3_600_000 - 20 * 86_400_000) * 1000;

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

function rows(startUs: number, count: number): TestRow[] {
  return Array.from({ length: count }, (_, index) => ({ host: 'h', timeUs: startUs + index * SECOND_US, usage_user: index, usage_idle: 0 }));
}

type FlushScope = NonNullable<Parameters<typeof RetentionService.open>[0]['flushScope']>;

async function setUp(schedule = '0 0 1 1 *', flushScope?: FlushScope) {
  const { root, storage, compactor } = await openRewriteStore('arc-retention-service-');
  await putFile(storage, { sequence: 1, writtenAtMs: 1000, rows: rows(OLD_US, 10) });
  await putFile(storage, { sequence: 2, writtenAtMs: 2000, rows: rows(OLD_US + HOUR_US, 10) });
  await putFile(storage, { measurement: 'mem', sequence: 3, writtenAtMs: 3000, rows: rows(OLD_US, 10) });
  const service = RetentionService.open({ storage, rewriter: compactor, config: { enabled: true, schedule }, storePath: path.join(root, '..', `${path.basename(root)}-retention.db`), log: () => undefined, ...(flushScope === undefined ? {} : { flushScope }) });
  closers.push(() => compactor.close(), () => service.close());
  return { storage, service };
}

describe('RetentionService', () => {
  it('keeps policies: 400 naming the field, 409 for a taken name, 404 for an unknown id', async () => {
    const { service } = await setUp();
    const policy = service.create({ name: 'cpu-1d', database: 'db', measurement: 'cpu', retention_days: 1 });
    expect(policy).toMatchObject({ name: 'cpu-1d', bufferDays: 7, isActive: true, lastRun: null, running: null });
    expect(() => service.create({ name: 'cpu-1d', database: 'db', retention_days: 2 })).toThrow(expect.objectContaining({ code: RetentionErrorCode.nameTaken }));
    expect(() => service.create({ name: 'x', database: 'db', retention_days: 0 })).toThrow(expect.objectContaining({ code: RetentionErrorCode.badPolicy, details: { field: 'retention_days' } }));
    expect(service.update(policy.id, { name: 'cpu-2d', database: 'db', measurement: 'cpu', retention_days: 2, buffer_days: 0 })).toMatchObject({ name: 'cpu-2d', retentionDays: 2, bufferDays: 0 });
    expect(service.list().map((listed) => listed.name)).toEqual(['cpu-2d']);
    service.delete(policy.id);
    expect(() => service.get(policy.id)).toThrow(expect.objectContaining({ code: RetentionErrorCode.notFound }));
    await expect(service.execute(policy.id, true)).rejects.toMatchObject({ code: RetentionErrorCode.notFound });
  });

  it('records a dry run and a run, one after the other, the run as the last one', async () => {
    const { storage, service } = await setUp();
    const policy = service.create({ name: 'cpu-1d', database: 'db', measurement: 'cpu', retention_days: 1, buffer_days: 0 });
    const [dry, run] = await Promise.all([service.execute(policy.id, true), service.execute(policy.id, false)]);
    expect(dry.result).toMatchObject({ dryRun: true, filesDropped: 2, rowsRemoved: 20 });
    expect(run.result).toMatchObject({ dryRun: false, filesDropped: 2, rowsRemoved: 20, jobsFailed: 0 });
    expect(await readRows(storage)).toEqual([]);
    expect((await readRows(storage, 'mem')).length).toBe(10);
    const history = service.executions(policy.id, 10);
    expect(history.map((execution) => [execution.dryRun, execution.state, execution.rowsRemoved])).toEqual([
      [false, 'succeeded', 20],
      [true, 'succeeded', 20],
    ]);
    expect(service.get(policy.id).lastRun?.id).toBe(run.execution.id);
  });

  it("flushes the policy's buffered rows before each run; a failed flush fails the run, recorded, with nothing removed", async () => {
    const flushed: string[] = [];
    let flushError: ArcError | null = new ArcError(ErrorKind.unavailable, 'ARC_TEST_FLUSH_FAILED', 'the disk is full');
    const { storage, service } = await setUp(undefined, (database, measurement) => {
      flushed.push(`${database}.${measurement ?? '*'}`);
      return Promise.resolve(flushError);
    });
    const cpu = service.create({ name: 'cpu-1d', database: 'db', measurement: 'cpu', retention_days: 1, buffer_days: 0 });
    await expect(service.execute(cpu.id, false)).rejects.toThrow('the disk is full');
    expect(service.executions(cpu.id, 10).map((execution) => [execution.state, execution.error])).toEqual([['failed', 'the disk is full']]);
    expect((await readRows(storage)).length).toBe(20);
    flushError = null;
    const wholeDatabase = service.create({ name: 'db-1d', database: 'db', retention_days: 1, buffer_days: 0 });
    await service.execute(cpu.id, true);
    await service.execute(wholeDatabase.id, false);
    expect(flushed).toEqual(['db.cpu', 'db.cpu', 'db.*']);
    expect(await readRows(storage)).toEqual([]);
  });

  it('refuses a schedule that is not cron, naming the setting', async () => {
    const { root, storage, compactor } = await openRewriteStore('arc-retention-schedule-');
    closers.push(() => compactor.close());
    const opening = (): RetentionService => RetentionService.open({ storage, rewriter: compactor, config: { enabled: true, schedule: 'every night' }, storePath: path.join(root, '..', `${path.basename(root)}-retention.db`), log: () => undefined });
    expect(opening).toThrow(expect.objectContaining({ code: CompactionErrorCode.badSchedule, message: expect.stringContaining('retention.schedule') as unknown }));
  });

  it('runs every active policy on its schedule', async () => {
    const { storage, service } = await setUp('* * * * * *');
    const active = service.create({ name: 'cpu', database: 'db', measurement: 'cpu', retention_days: 1, buffer_days: 0 });
    const inactive = service.create({ name: 'mem', database: 'db', measurement: 'mem', retention_days: 1, buffer_days: 0, is_active: false });
    await waitUntil('the schedule ran the active policy', 30_000, () => service.executions(active.id, 1).length > 0);
    expect(service.executions(active.id, 1)[0]).toMatchObject({ dryRun: false, state: 'succeeded', rowsRemoved: 20 });
    expect(service.executions(inactive.id, 1)).toEqual([]);
    expect(await readRows(storage)).toEqual([]);
  });
});
