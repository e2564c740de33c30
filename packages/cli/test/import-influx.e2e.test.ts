// Proves `arc import influx` end to end: a real influxd is seeded with two measurements, a real Arc
// runs the import job the command creates, and the rows read back from Arc by SQL have the counts,
// sums and tags InfluxDB itself answers (a whole database, then one measurement renamed and cut
// to a time range), with InfluxDB's types and exact values (int64 extremes, quoted strings, booleans); a run cancelled by Ctrl-C and run again holds every row once; the same command
// with --schedule gives the job its schedule; a source database that does not exist stops the
// command before anything is stored. Skipped without influxd, and, until the server has the import
// job routes, skipped by the test itself with the reason (GET /api/v1/jobs answers 404 in a build
// without them).
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { ArcClient } from '../../server/test/support/arc-client.js';
import { TEST_TOKEN, startArc, type ArcProcess } from '../../server/test/support/arc-process.js';
import { flushUntil } from '../../server/test/support/flush-until.js';
import { influxdAvailable, useInfluxd } from '../../server/test/support/influxd-process.js';
import { importCommand } from '../src/import-command.js';
import type { ExecutionJson, ImportJobIo } from '../src/import-job-command.js';

const BASE_NS = BigInt(Date.UTC(2025, 5, 1)) * 1_000_000n;
const SECOND_NS = 1_000_000_000n;
const CPU_POINTS_PER_HOST = 1000;
const HOSTS = ['h0', 'h1', 'h2'] as const;
const MEM_POINTS = 500;

/** cpu: 3 hosts x 1,000 points a second apart (float usage, integer n); mem: 500 points. */
function seedLines(): string {
  const lines: string[] = [];
  for (const [hostIndex, host] of HOSTS.entries()) {
    for (let point = 0; point < CPU_POINTS_PER_HOST; point += 1) {
      lines.push(`cpu,host=${host},region=eu usage=${String(point + hostIndex * 0.25)},n=${String(point * (hostIndex + 1))}i ${String(BASE_NS + BigInt(point) * SECOND_NS)}`);
    }
  }
  for (let point = 0; point < MEM_POINTS; point += 1) lines.push(`mem,host=h0 used=${String(point * 2)}i,free=${String(0.5 + point)} ${String(BASE_NS + BigInt(point) * SECOND_NS)}`);
  return `${lines.join('\n')}\n`;
}

/** Whether the running Arc has the import job routes; null when it has, else why the tests skip. */
async function jobRoutesMissing(arc: ArcProcess): Promise<string | null> {
  const response = await fetch(`${arc.url}/api/v1/jobs`, { headers: { authorization: `Bearer ${TEST_TOKEN}` } });
  if (response.status === 404) return 'the server has no import job routes yet (GET /api/v1/jobs answered 404): this test turns on with them';
  return null;
}

describe.skipIf(!influxdAvailable())('arc import influx against a real influxd and a real Arc', () => {
  const source = useInfluxd();
  let arc: ArcProcess;
  let skipReason: string | null = null;

  beforeAll(async () => {
    await source.influxd.write('src', seedLines());
    arc = await startArc();
    skipReason = await jobRoutesMissing(arc);
  }, 120_000);
  afterAll(async () => {
    await arc.stop();
    await arc.cleanup();
  });

  /** Runs the command in this process; `onProgress` sees each progress line drawn (stderr then counts as a terminal). */
  async function run(context: TestContext, args: string[], interrupt?: { signal: AbortSignal; onProgress: (line: string) => void }): Promise<{ code: number; stdout: string; stderr: string }> {
    if (skipReason !== null) context.skip(skipReason);
    let stdout = '';
    let stderr = '';
    const io: ImportJobIo = {
      stdout: { write: (text: string) => (stdout += text) },
      stderr: {
        write: (text: string) => {
          stderr += text;
          if (text.startsWith('\r')) interrupt?.onProgress(text);
        },
      },
      stderrIsTTY: interrupt !== undefined,
      stdoutIsTTY: false,
      env: { ARC_TOKEN: TEST_TOKEN },
      ...(interrupt === undefined ? {} : { interrupt: interrupt.signal, pollIntervalMs: 20 }),
    };
    const code = await importCommand(['influx', '--from', source.influxd.url, ...args, '--url', arc.url], io);
    return { code, stdout, stderr };
  }

  /** count, sum and distinct hosts of a measurement as InfluxDB answers them. */
  async function influxFigures(q: string): Promise<unknown[]> {
    const answer = await source.influxd.query(q, { db: 'src' });
    const body = answer.body as { results: { series?: { values: unknown[][] }[] }[] };
    return body.results[0]?.series?.[0]?.values[0]?.slice(1) ?? [];
  }

  it('copies every measurement of a database: counts, sums and tags as InfluxDB has them', async (context) => {
    const result = await run(context, ['--source-db', 'src', '--database', 'copied']);
    expect(result.code, result.stderr).toBe(0);
    const outcome = JSON.parse(result.stdout) as { job: { name: string }; execution: ExecutionJson };
    expect(outcome.execution).toMatchObject({ status: 'succeeded', rows: HOSTS.length * CPU_POINTS_PER_HOST + MEM_POINTS, rows_rejected: 0 });
    const client = new ArcClient(arc.url);
    const [cpuCount, cpuUsage, cpuN] = await influxFigures('SELECT count(usage), sum(usage), sum(n) FROM cpu');
    const [memCount, memUsed, memFree] = await influxFigures('SELECT count(used), sum(used), sum(free) FROM mem');
    // A run's rows are acknowledged writes: like any write, they are read once flushed to Parquet.
    await flushUntil(client, 'copied', 'cpu', cpuCount as number);
    await flushUntil(client, 'copied', 'mem', memCount as number);
    expect(await client.rows('SELECT count(*), sum(usage), sum(n), count(DISTINCT host), min(region), max(region) FROM cpu', 'copied')).toEqual([[cpuCount, cpuUsage, cpuN, HOSTS.length, 'eu', 'eu']]);
    expect(await client.rows('SELECT count(*), sum(used), sum(free), min(time)::VARCHAR FROM mem', 'copied')).toEqual([[memCount, memUsed, memFree, '2025-06-01 00:00:00']]);
  });

  it("keeps InfluxDB's types and values exactly: int64 extremes, floats, strings with quotes and backslashes, booleans, tags with spaces and commas", async (context) => {
    const lines = [
      `edge,host=a\\ b\\,c i=9223372036854775807i,f=0.1,s="say \\"hi\\" \\\\ back",b=true ${String(BASE_NS)}`,
      `edge,host=plain i=-9223372036854775808i,f=-1.5e300,s="",b=false ${String(BASE_NS + SECOND_NS)}`,
      `edge,host=plain i=0i,f=3,s="x",b=t ${String(BASE_NS + 2n * SECOND_NS)}`,
    ];
    await source.influxd.write('types', `${lines.join('\n')}\n`);
    const result = await run(context, ['--source-db', 'types', '--database', 'typed']);
    expect(result.code, result.stderr).toBe(0);
    const client = new ArcClient(arc.url);
    await flushUntil(client, 'typed', 'edge', 3);
    const types = await client.rows("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'edge' ORDER BY column_name", 'typed');
    expect(types).toEqual([['b', 'BOOLEAN'], ['f', 'DOUBLE'], ['host', 'VARCHAR'], ['i', 'BIGINT'], ['s', 'VARCHAR'], ['time', 'TIMESTAMP']]);
    expect(await client.rows('SELECT host, i::VARCHAR, f, s, b FROM edge ORDER BY time', 'typed')).toEqual([
      ['a b,c', '9223372036854775807', 0.1, 'say "hi" \\ back', true],
      ['plain', '-9223372036854775808', -1.5e300, '', false],
      ['plain', '0', 3, 'x', true],
    ]);
  });

  it('copies one measurement renamed, cut to a time range', async (context) => {
    const start = new Date(Number((BASE_NS + 100n * SECOND_NS) / 1_000_000n)).toISOString();
    const end = String(BASE_NS + 300n * SECOND_NS);
    const result = await run(context, ['--source-db', 'src', '--database', 'ranged', '--measurement', 'mem', '--measurement-prefix', 'influx_', '--start', start, '--end', end]);
    expect(result.code, result.stderr).toBe(0);
    const [count, used] = await influxFigures(`SELECT count(used), sum(used) FROM mem WHERE time >= '${start}' AND time < ${end}`);
    expect(count).toBe(200);
    const client = new ArcClient(arc.url);
    await flushUntil(client, 'ranged', 'influx_mem', 200);
    expect(await client.rows('SELECT count(*), sum(used), min(time)::VARCHAR, max(time)::VARCHAR FROM influx_mem', 'ranged')).toEqual([[count, used, '2025-06-01 00:01:40', '2025-06-01 00:04:59']]);
  });

  it('continues a run cancelled by Ctrl-C from its checkpoint when the command runs again: every row once', async (context) => {
    // Chunks of 50 rows: 70 writes, so the cancel lands while the run reads.
    const args = ['--source-db', 'src', '--database', 'resumed', '--chunk-rows', '50'];
    const interrupt = new AbortController();
    const first = await run(context, args, { signal: interrupt.signal, onProgress: (line) => /[1-9][\d,]* rows/.test(line) && interrupt.abort() });
    expect(first.code, first.stderr).toBe(1);
    const cancelled = (JSON.parse(first.stdout) as { execution: ExecutionJson }).execution;
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.rows).toBeLessThan(HOSTS.length * CPU_POINTS_PER_HOST + MEM_POINTS);
    expect(first.stderr).toContain('run the same command again to continue');
    const second = await run(context, args);
    expect(second.code, second.stderr).toBe(0);
    expect((JSON.parse(second.stdout) as { execution: ExecutionJson }).execution).toMatchObject({ status: 'succeeded', trigger: 'resume' });
    const client = new ArcClient(arc.url);
    await flushUntil(client, 'resumed', 'cpu', HOSTS.length * CPU_POINTS_PER_HOST);
    await flushUntil(client, 'resumed', 'mem', MEM_POINTS);
    expect(await client.rows('SELECT count(*), count(DISTINCT (host, time)) FROM cpu', 'resumed')).toEqual([[HOSTS.length * CPU_POINTS_PER_HOST, HOSTS.length * CPU_POINTS_PER_HOST]]);
  });

  it('gives the job of an import run by hand a schedule when its command runs again with --schedule (the walkthrough\'s step 5)', async (context) => {
    const args = ['--source-db', 'src', '--database', 'kept', '--measurement', 'mem', '--since-last-run'];
    const first = await run(context, args);
    expect(first.code, first.stderr).toBe(0);
    const made = (JSON.parse(first.stdout) as { job: { id: number; name: string } }).job;
    const scheduled = await run(context, [...args, '--schedule', '0 3 * * *']);
    expect(scheduled.code, scheduled.stderr).toBe(0);
    expect(JSON.parse(scheduled.stdout)).toMatchObject({ job: { id: made.id, name: made.name, schedule: '0 3 * * *', range: { since_last_run: true } }, created: false });
  });

  it('stops before storing anything when the source database does not exist', async (context) => {
    const result = await run(context, ['--source-db', 'nowhere', '--database', 'none']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('the source does not answer as expected');
    const connections = await fetch(`${arc.url}/api/v1/connections/influx`, { headers: { authorization: `Bearer ${TEST_TOKEN}` } }).then((response) => response.json() as Promise<{ connections: { name: string }[] }>);
    expect(connections.connections.map((connection) => connection.name)).not.toContain(`influx-${new URL(source.influxd.url).host}-nowhere`);
  });
});
