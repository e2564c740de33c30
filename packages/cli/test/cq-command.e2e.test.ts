// Proves `arc cq` against a real server: options are checked (usage errors exit 2 naming what is
// wrong), create / list / show / execute / executions / delete do what the API does, execute
// cuts a long range into requests with a progress line on a terminal and its rows land in the
// destination, a server's refusal exits 1 with its code on stderr, and the schedule flags
// (--offset, --every, --for, --destination-database) are sent, shown, and move execute's chunks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArcClient, msgpack } from '../../server/test/support/arc-client.js';
import { TEST_TOKEN, startArc, type ArcProcess } from '../../server/test/support/arc-process.js';
import { cqCommand, executeChunks, parseCqArgs, windowProgress, type CqIo } from '../src/cq-command.js';
import { CQ_WINDOWS_PER_REQUEST } from '../src/limits.js';

let arc: ArcProcess;
beforeAll(async () => {
  arc = await startArc();
});
afterAll(async () => {
  await arc.stop();
  await arc.cleanup();
});

async function run(args: string[], stderrIsTTY = false): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CqIo = { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text) }, stderrIsTTY, env: { ARC_TOKEN: TEST_TOKEN } };
  const code = await cqCommand([...args, '--url', arc.url], io);
  return { code, stdout, stderr };
}

describe('arc cq', () => {
  it('checks its command line', async () => {
    expect(() => parseCqArgs(['frobnicate'], {})).toThrow("unknown subcommand 'frobnicate'");
    expect(() => parseCqArgs(['show'], {})).toThrow("'show' needs the id or name of a continuous query");
    expect(() => parseCqArgs(['create', '--name', 'x'], {})).toThrow("'create' needs --database");
    expect(() => parseCqArgs(['list', '--bogus'], {})).toThrow("unknown option '--bogus'");
    const bad = await run(['execute', '1', '--start', 'yesterday']);
    expect([bad.code, bad.stderr]).toEqual([2, "arc cq: option '--start' must be an RFC 3339 time (2026-01-01T00:00:00Z), got 'yesterday' (see 'arc cq --help')\n"]);
    expect(executeChunks(0, 120 * 60_000 + 1, 60_000).map((chunk) => chunk.windows)).toEqual([CQ_WINDOWS_PER_REQUEST, CQ_WINDOWS_PER_REQUEST, 121 - 2 * CQ_WINDOWS_PER_REQUEST]);
    expect(windowProgress(12, 24)).toBe('[#####.....] 12/24 windows');
    // With a 15-minute offset, hourly windows start at :15: [00:15, 02:15) is two, aligned outwards.
    expect(executeChunks(30 * 60_000, 2 * 3_600_000, 3_600_000, 15 * 60_000)).toEqual([{ startMs: 15 * 60_000, endMs: 2 * 3_600_000 + 15 * 60_000, windows: 2 }]);
  });

  it('creates, lists, executes with progress, and deletes', async () => {
    const client = new ArcClient(arc.url);
    const times = Array.from({ length: 180 }, (_, index) => Date.UTC(2026, 0, 1) + index * 60_000);
    expect((await client.write(msgpack({ m: 'cpu', columns: { time: times, host: times.map(() => 'a'), v: times.map((_, index) => index) } }), { database: 'db' })).status).toBe(204);
    expect((await client.flush()).status).toBe(200);
    const query = 'SELECT time_bucket(INTERVAL 1 MINUTE, time) AS time, host, sum(v) AS v FROM cpu WHERE time >= {start_time} AND time < {end_time} GROUP BY ALL';
    const created = await run(['create', '--name', 'cpu_1m', '--database', 'db', '--source', 'cpu', '--destination', 'cpu_1m', '--interval', '1m', '--query', query]);
    expect(created).toEqual({ code: 0, stdout: "created continuous query 1 'cpu_1m'\n", stderr: '' });
    expect((await run(['list'])).stdout).toMatch(/^ID +NAME +DATABASE .*\n1 +cpu_1m +db +cpu -> cpu_1m +1m +yes/);
    const executed = await run(['execute', 'cpu_1m', '--start', '2026-01-01T00:00:00Z', '--end', '2026-01-01T03:00:00Z'], true);
    expect(executed.code).toBe(0);
    expect(executed.stdout).toBe('180 windows run: 180 rows read, 180 rows written\n');
    expect(executed.stderr).toContain('[##########] 180/180 windows');
    expect(await client.rows('SELECT count(*), sum(v) FROM cpu_1m', 'db')).toEqual([[180, (179 * 180) / 2]]);
    const executions = await run(['executions', '1', '--limit', '2']);
    expect(executions.stdout.split('\n').filter((line) => line !== '')).toHaveLength(3);
    const refused = await run(['create', '--name', 'cpu_1m', '--database', 'db', '--source', 'cpu', '--destination', 'cpu_1m', '--interval', '1m', '--query', query]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('(ARC_CQ_NAME_TAKEN)');
    expect(await run(['delete', 'cpu_1m'])).toEqual({ code: 0, stdout: "deleted continuous query 1 'cpu_1m'\n", stderr: '' });
    expect((await run(['show', 'cpu_1m'])).stderr).toBe("arc cq: no continuous query is named 'cpu_1m'\n");
  });

  it('sends, shows and refuses the schedule flags', async () => {
    const query = 'SELECT min(time) AS time, count(*) AS n FROM cpu WHERE time >= {start_time} AND time < {end_time}';
    const common = ['--database', 'db', '--source', 'cpu', '--interval', '1h', '--query', query];
    const created = await run(['create', '--name', 'sched', '--destination', 'cpu', '--destination-database', 'rollups', '--offset', '15m', '--every', '30m', '--for', '2h', ...common, '--json']);
    expect(created.code, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ destination_database: 'rollups', window_offset: '15m', resample_every: '30m', resample_for: '2h' });
    expect((await run(['list'])).stdout).toMatch(/sched +db +cpu -> rollups\.cpu +1h/);
    expect((await run(['show', 'sched'])).stdout).toContain('destination database: rollups\nwindow offset: 15m\nruns every: 30m\neach run recomputes: 2h\nquery: ');
    const refused = await run(['create', '--name', 'bad', '--destination', 'cpu_x', '--offset', '1h', ...common]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("'window_offset'");
    expect((await run(['delete', 'sched'])).code).toBe(0);
  });
});
