// Proves that an import job from a real InfluxDB 1.x writes each row once across crashes: a job of
// small chunks copies 220,000 rows (cpu of 10 hosts over 3.5 days, mem of 4 hosts), the server is
// killed with SIGKILL three times at different points of the copy (twice with a chunk pending, the
// WAL on) and once more while a start settles the pending chunk, restarted on the same data directory each time, and the
// execution the last start resumes succeeds; then the count, sums, distinct hosts and time bounds
// of each measurement in Arc equal InfluxDB's own answers, and no (host, time) is there twice.
// Skipped without `influxd` (CI installs it before the fault tests).
import type { ChildProcess } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { pollUntil, waitUntil } from '../../../../test/support/poll-until.js';
import { ArcClient } from '../support/arc-client.js';
import { startArc, TEST_TOKEN, type ArcProcess } from '../support/arc-process.js';
import { flushUntil } from '../support/flush-until.js';
import { influxdAvailable, startInfluxd, type InfluxdProcess } from '../support/influxd-process.js';

const BASE_NS = BigInt(Date.UTC(2025, 2, 1)) * 1_000_000n;
const SECOND_NS = 1_000_000_000n;
const CPU_HOSTS = 10;
/** 20,000 points 15 s apart: 3.5 days per host. */
const CPU_POINTS_PER_HOST = 20_000;
const CPU_INTERVAL_NS = 15n * SECOND_NS;
const MEM_HOSTS = 4;
const MEM_POINTS_PER_HOST = 5_000;
const MEM_INTERVAL_NS = 60n * SECOND_NS;
const CPU_ROWS = CPU_HOSTS * CPU_POINTS_PER_HOST;
const MEM_ROWS = MEM_HOSTS * MEM_POINTS_PER_HOST;
const SEED_LINES_PER_WRITE = 20_000;
/** 110 chunks: each one a pre-count, a pending record, a write and a checkpoint the kill can cut. */
const CHUNK_ROWS = 2_000;
/**
 * Where each kill comes: once the job has checkpointed `atRows` (the count a resume carries over),
 * and, with `midChunk`, while a chunk is recorded as pending (its write in flight or acknowledged
 * but not yet checkpointed: the resume must settle it by counting), else right after a checkpoint.
 * Early in cpu, in its middle, and in mem (measurements are read in name order), so the kills cut
 * three different executions (the first run, then two resumes).
 */
const KILLS = [
  { atRows: 30_000, midChunk: true },
  { atRows: 110_000, midChunk: false },
  { atRows: CPU_ROWS + 6_000, midChunk: true },
] as const;
/** Probe interval of the progress seen from outside: a chunk takes tens of ms, so the kill lands among the steps of one. */
const PROGRESS_POLL_MS = 10;
const RUN_WAIT_MS = 60_000;
const ENV = {
  ARC_WAL_ENABLED: 'true',
  ARC_WAL_SYNC_MODE: 'fdatasync',
  // Flushes during the copy too, so kills also land among flushes and WAL truncation.
  ARC_WRITER_FLUSH_AGE_MS: '500',
};

/** Float fields are multiples of 1/4 under 2^10: every sum is exact, whatever order it adds in. */
function cpuLine(host: number, point: number): string {
  const user = ((point * 7 + host * 13) % 400) / 4;
  const system = ((point * 3 + host) % 200) / 4;
  const time = BASE_NS + BigInt(point) * CPU_INTERVAL_NS;
  return `cpu,host=host_${String(host)},region=eu-${String(host % 3)},datacenter=dc${String(host % 2)} usage_user=${String(user)},usage_system=${String(system)},n=${String(point * (host + 1))}i ${String(time)}`;
}

function memLine(host: number, point: number): string {
  const time = BASE_NS + BigInt(point) * MEM_INTERVAL_NS;
  return `mem,host=host_${String(host)} used=${String(point * 1024 + host)}i,used_percent=${String((point % 100) / 4)} ${String(time)}`;
}

async function seed(influxd: InfluxdProcess): Promise<void> {
  const lines: string[] = [];
  for (let host = 0; host < CPU_HOSTS; host++) for (let point = 0; point < CPU_POINTS_PER_HOST; point++) lines.push(cpuLine(host, point));
  for (let host = 0; host < MEM_HOSTS; host++) for (let point = 0; point < MEM_POINTS_PER_HOST; point++) lines.push(memLine(host, point));
  for (let start = 0; start < lines.length; start += SEED_LINES_PER_WRITE) await influxd.write('src', lines.slice(start, start + SEED_LINES_PER_WRITE).join('\n'));
}

/** The first row of InfluxDB's answer to `q` (in ns epoch), without its time column unless asked. */
async function influxRow(influxd: InfluxdProcess, q: string): Promise<unknown[]> {
  const answer = await influxd.query(q, { db: 'src', epoch: 'ns' });
  const body = answer.body as { results: { series?: { values: unknown[][] }[] }[] };
  const row = body.results[0]?.series?.[0]?.values[0];
  if (row === undefined) throw new Error(`influxd answered no row to ${q}: ${answer.text}`);
  return row;
}

/** What InfluxDB says of a measurement: count, two sums, distinct hosts, first and last time in us. */
async function influxFigures(influxd: InfluxdProcess, measurement: string, floatField: string, integerField: string): Promise<unknown[]> {
  const [, count, floatSum, integerSum] = await influxRow(influxd, `SELECT count(${floatField}), sum(${floatField}), sum(${integerField}) FROM ${measurement}`);
  const [firstNs] = await influxRow(influxd, `SELECT first(${floatField}) FROM ${measurement}`);
  const [lastNs] = await influxRow(influxd, `SELECT last(${floatField}) FROM ${measurement}`);
  const hosts = await influxd.query(`SHOW TAG VALUES FROM ${measurement} WITH KEY = "host"`, { db: 'src' });
  const hostCount = (hosts.body as { results: { series: { values: unknown[][] }[] }[] }).results[0]?.series[0]?.values.length;
  return [count, floatSum, integerSum, hostCount, (firstNs as number) / 1000, (lastNs as number) / 1000];
}

interface ExecutionJson {
  readonly id: number;
  readonly status: string;
  readonly trigger: string;
  readonly rows: number;
  readonly in_doubt_chunk: boolean;
}

async function call(arc: Pick<ArcProcess, 'url'>, method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${arc.url}/api/v1${path}`, { method, headers: { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await response.text();
  return { status: response.status, json: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

async function executions(arc: ArcProcess, jobId: number): Promise<ExecutionJson[]> {
  const answer = await call(arc, 'GET', `/jobs/${String(jobId)}/executions`);
  expect(answer.status).toBe(200);
  return answer.json.executions as ExecutionJson[];
}

/** The newest execution once `done` accepts it, polled every PROGRESS_POLL_MS. */
async function newestWhen(arc: Pick<ArcProcess, 'url'>, jobId: number, what: string, done: (execution: ExecutionJson) => boolean, intervalMs = PROGRESS_POLL_MS): Promise<ExecutionJson> {
  const { value } = await pollUntil(what, RUN_WAIT_MS, async () => (await call(arc, 'GET', `/jobs/${String(jobId)}/executions?limit=1`)).json.executions as ExecutionJson[], (list) => list[0] !== undefined && done(list[0]), intervalMs);
  return value[0] as ExecutionJson;
}

/** Where a starting server says it listens, in its first log line (before /ready answers). */
const LISTEN_LOG = /listen=(127\.0\.0\.1:\d+)/;
/**
 * Probe interval while a start resumes: the resume's settle (a flush and a count) lasts a few tens
 * of ms, and the server has no hook to stop itself in it, so the look comes as often as it can.
 */
const SETTLE_POLL_MS = 1;

/**
 * Starts a server on `dataDir`, which resumes the execution killed with a pending chunk at once
 * (right after its WAL replay), and kills it with SIGKILL as soon as its job routes show the
 * resume: while it still holds the pending chunk (its settle under way) when the look comes in
 * time, else just after. The routes answer from the listen on, before /ready, so the test looks
 * from the port the first log line names. Says which it was.
 */
async function killWhileResuming(dataDir: string, jobId: number, killedId: number): Promise<'while settling' | 'after settling'> {
  let child: ChildProcess | null = null;
  let url: string | null = null;
  const starting = startArc(ENV, dataDir, (spawned) => {
    child = spawned;
    let output = '';
    const onData = (data: Buffer): void => {
      output += data.toString();
      url ??= LISTEN_LOG.exec(output)?.[1] ?? null;
    };
    spawned.stdout?.on('data', onData);
    spawned.stderr?.on('data', onData);
  }).then(
    () => null,
    (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
  );
  const server = { get url(): string { return `http://${url ?? ''}`; } };
  await waitUntil('the starting server names its port', RUN_WAIT_MS, () => url !== null);
  // Until the server listens, a look fails to connect: that is a "not yet".
  const { value } = await pollUntil('the killed execution is resumed', RUN_WAIT_MS, () => call(server, 'GET', `/jobs/${String(jobId)}/executions?limit=1`).then((answer) => (answer.json.executions as ExecutionJson[] | undefined)?.[0] ?? null, () => null), (execution) => execution !== null && execution.id > killedId, SETTLE_POLL_MS);
  const spawned = child as ChildProcess | null;
  if (spawned === null) throw new Error('the server was not spawned');
  if (spawned.exitCode !== null || spawned.signalCode !== null) throw new Error(`the server ended by itself as it resumed: ${String(spawned.exitCode ?? spawned.signalCode)}`);
  const exited = new Promise((resolve) => spawned.once('exit', resolve));
  spawned.kill('SIGKILL');
  await exited;
  // The start's own wait for /ready ends with the kill (its failure is then expected) or before it.
  const startFailure = await starting;
  if (startFailure !== null && !startFailure.message.includes('before ready')) throw startFailure;
  expect(value?.trigger).toBe('resume');
  return value?.in_doubt_chunk === true ? 'while settling' : 'after settling';
}

describe.skipIf(!influxdAvailable())('an import job from InfluxDB killed with SIGKILL mid-copy', () => {
  it('holds every row once after three kills mid-copy and one while resuming', async () => {
    const startedMs = performance.now();
    const influxd = await startInfluxd();
    let arc = await startArc(ENV);
    try {
      await seed(influxd);
      const connection = await call(arc, 'POST', '/connections/influx', { name: 'kill-source', settings: { version: 1, url: influxd.url, database: 'src' } });
      expect(connection.status, JSON.stringify(connection.json)).toBe(201);
      const job = await call(arc, 'POST', '/jobs', { name: 'kill-copy', type: 'influx1', connection_id: connection.json.id, source: {}, database: 'copied', chunk_rows: CHUNK_ROWS });
      expect(job.status, JSON.stringify(job.json)).toBe(201);
      const jobId = job.json.id as number;
      expect((await call(arc, 'POST', `/jobs/${String(jobId)}/run`)).status).toBe(202);

      const kills: { rows: number; execution: number; midChunk: boolean }[] = [];
      let resumeKilled = '';
      for (const kill of KILLS) {
        const what = `the copy passes ${String(kill.atRows)} rows${kill.midChunk ? ' with a chunk pending' : ''}`;
        const seen = await newestWhen(arc, jobId, what, (execution) => execution.status !== 'running' || (execution.rows >= kill.atRows && execution.in_doubt_chunk === kill.midChunk));
        expect(seen.status, `the copy ended before the kill at ${String(kill.atRows)} rows: ${JSON.stringify(seen)}`).toBe('running');
        await arc.kill();
        kills.push({ rows: seen.rows, execution: seen.id, midChunk: seen.in_doubt_chunk });
        // After the last kill, one start more is killed as it settles the chunk left pending.
        if (kill === KILLS[KILLS.length - 1]) resumeKilled = await killWhileResuming(arc.dataDir, jobId, seen.id);
        arc = await startArc(ENV, arc.dataDir);
        // The start resumes the killed execution at once: a new one, continuing it.
        await newestWhen(arc, jobId, 'the killed execution is resumed', (execution) => execution.id > seen.id && execution.trigger === 'resume');
      }

      const last = await newestWhen(arc, jobId, 'the last resume ends', (execution) => execution.status !== 'running');
      expect(last).toMatchObject({ status: 'succeeded', trigger: 'resume', rows: CPU_ROWS + MEM_ROWS, rows_rejected: 0, in_doubt_chunk: false, error: null });
      const history = await executions(arc, jobId);
      expect(history.map((execution) => `${execution.trigger}:${execution.status}`)).toEqual(['resume:succeeded', 'resume:interrupted', 'resume:interrupted', 'resume:interrupted', 'manual:interrupted']);
      // Each kill mid-copy cut a different execution; the one killed as it resumed comes after them.
      expect(kills.map((kill) => kill.execution)).toEqual(history.slice(2).map((execution) => execution.id).reverse());

      const client = new ArcClient(arc.url);
      await flushUntil(client, 'copied', 'cpu', CPU_ROWS);
      await flushUntil(client, 'copied', 'mem', MEM_ROWS);
      const figures = (measurement: string, floatField: string, integerField: string): Promise<unknown[][]> =>
        client.rows(`SELECT count(*), sum(${floatField}), sum(${integerField}), count(DISTINCT host), epoch_us(min(time)), epoch_us(max(time)) FROM ${measurement}`, 'copied');
      expect(await figures('cpu', 'usage_user', 'n')).toEqual([await influxFigures(influxd, 'cpu', 'usage_user', 'n')]);
      expect(await figures('mem', 'used_percent', 'used')).toEqual([await influxFigures(influxd, 'mem', 'used_percent', 'used')]);
      expect(await client.rows('SELECT sum(usage_system) FROM cpu', 'copied')).toEqual([[(await influxRow(influxd, 'SELECT sum(usage_system) FROM cpu'))[1]]]);
      for (const measurement of ['cpu', 'mem']) {
        expect(await client.rows(`SELECT host, epoch_us(time), count(*) FROM ${measurement} GROUP BY host, time HAVING count(*) > 1 LIMIT 5`, 'copied'), `rows twice in ${measurement}`).toEqual([]);
      }
      console.log(JSON.stringify({ fault: 'import-job-kill', rows: CPU_ROWS + MEM_ROWS, chunk_rows: CHUNK_ROWS, kills: kills.map((kill) => `${String(kill.rows)}${kill.midChunk ? ' + pending chunk' : ''}`), resume_killed: resumeKilled, executions: history.length, seconds: Math.round((performance.now() - startedMs) / 100) / 10 }));
    } finally {
      await arc.stop();
      await arc.cleanup();
      await influxd.stop();
    }
  }, 180_000);
});
