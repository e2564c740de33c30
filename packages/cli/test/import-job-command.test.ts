// Proves `arc import influx|postgres` checks its command line (required options named, versions,
// times, URLs), and, against a node:http server in the test answering the connections and jobs
// routes as the contract says, sends the right requests in order (test the source, create or
// reuse the connection and the job, run, poll the execution), follows a run to its outcome (exit 0
// or 1 with the server's error) and flushes its rows so a query right after sees them, cancels on Ctrl-C naming how to resume, never prints a secret,
// and draws the progress bar on a terminal.
import { describe, expect, it } from 'vitest';
import { executionProgressLine, importJobCommand, jobDifferences, parseImportJobArgs, timeNs, type ExecutionJson, type ImportJobIo } from '../src/import-job-command.js';
import { importCommand } from '../src/import-command.js';
import { startFakeArc, type FakeAnswer, type ReceivedRequest } from './support/fake-arc.js';

const INFLUX_ARGS = ['influx', '--from', 'http://influx.local:8086/', '--source-db', 'telegraf', '--database', 'metrics'];

describe('parseImportJobArgs', () => {
  it('reads an InfluxDB 1.x import: the connection named after the source, the job after source and destination', () => {
    const options = parseImportJobArgs([...INFLUX_ARGS, '--username', 'reader', '--measurement', 'cpu, mem', '--measurement-prefix', 'old_', '--start', '2026-01-01T00:00:00Z', '--end', '1767312000000000000', '--chunk-rows', '5000'], { INFLUX_PASSWORD: 'pw', ARC_TOKEN: 'arc' });
    expect(options).toMatchObject({
      token: 'arc',
      wait: true,
      connection: { type: 'influx', name: 'influx-influx.local:8086-telegraf', settings: { version: 1, url: 'http://influx.local:8086', database: 'telegraf', username: 'reader' }, secret: 'pw' },
      job: {
        name: 'influx-influx.local:8086-telegraf-cpu+mem-to-metrics',
        type: 'influx1',
        source: { measurements: ['cpu', 'mem'], measurement_prefix: 'old_' },
        database: 'metrics',
        range: { start: '2026-01-01T00:00:00Z', end: '1767312000000000000' },
        schedule: null,
        chunk_rows: 5000,
      },
    });
    expect(parseImportJobArgs([...INFLUX_ARGS, '--password', 'flag'], { INFLUX_PASSWORD: 'env' }).connection.secret).toBe('flag');
    expect(parseImportJobArgs(INFLUX_ARGS, {}).connection.secret).toBeNull();
  });

  it('reads an InfluxDB 1.x retention policy into the source and the job\'s name; 2.x refuses it', () => {
    const options = parseImportJobArgs([...INFLUX_ARGS, '--retention-policy', 'one year', '--measurement', 'cpu'], {});
    expect(options.job).toMatchObject({ name: 'influx-influx.local:8086-telegraf-rp:one_year-cpu-to-metrics', source: { retention_policy: 'one year', measurements: ['cpu'] } });
    expect(() => parseImportJobArgs(['influx', '--influx-version', '2', '--from', 'https://x', '--org', 'a', '--bucket', 'b', '--database', 'd', '--retention-policy', 'rp'], {})).toThrow(/'--retention-policy' is for InfluxDB 1\.x/);
  });

  it('reads an InfluxDB 2.x import (token from INFLUX_TOKEN) and a scheduled one that does not wait', () => {
    const options = parseImportJobArgs(['influx', '--influx-version', '2', '--from', 'https://cloud.example', '--org', 'acme', '--bucket', 'iot', '--database', 'iot', '--schedule', '*/10 * * * *', '--since-last-run', '--name', 'iot-sync'], { INFLUX_TOKEN: 'tok' });
    expect(options).toMatchObject({
      wait: false,
      connection: { name: 'influx2-cloud.example-acme-iot', settings: { version: 2, url: 'https://cloud.example', org: 'acme', bucket: 'iot' }, secret: 'tok' },
      job: { name: 'iot-sync', type: 'influx2', source: {}, range: { since_last_run: true }, schedule: '*/10 * * * *' },
    });
  });

  it('reads a PostgreSQL import, taking a password out of the URL as the secret', () => {
    const options = parseImportJobArgs(['postgres', '--from', 'postgres://app:s%40cret@db.local:5432/shop', '--table', 'public.orders', '--time-column', 'created_at', '--tag-columns', 'region,store', '--database', 'sales', '--no-wait'], {});
    expect(options).toMatchObject({
      wait: false,
      connection: { type: 'postgres', name: 'postgres-db.local:5432-shop', settings: { url: 'postgres://app@db.local:5432/shop' }, secret: 's@cret' },
      job: { name: 'postgres-db.local:5432-shop-public.orders-to-sales', type: 'postgres', source: { table: 'public.orders', time_column: 'created_at', tag_columns: ['region', 'store'] }, database: 'sales' },
    });
    expect(parseImportJobArgs(['postgres', '--from', 'postgres://db.local/shop', '--username', 'ro', '--table', 't', '--time-column', 'ts', '--database', 'd'], { PGPASSWORD: 'env' }).connection).toMatchObject({ settings: { url: 'postgres://ro@db.local/shop' }, secret: 'env' });
  });

  it.each([
    [['influx', '--source-db', 'a', '--database', 'b'], "option '--from' is required"],
    [['influx', '--from', 'http://h', '--database', 'b'], "option '--source-db' is required"],
    [['influx', '--from', 'http://h', '--source-db', 'a'], "option '--database' is required"],
    [['influx', '--from', 'ftp://h', '--source-db', 'a', '--database', 'b'], "option '--from' must be a http or https URL"],
    [[...INFLUX_ARGS, '--influx-version', '3'], "option '--influx-version' must be 1 or 2"],
    [[...INFLUX_ARGS, '--org', 'o'], "option '--org' is for InfluxDB 2.x"],
    [['influx', '--influx-version', '2', '--from', 'http://h', '--org', 'o', '--database', 'b'], "option '--bucket' is required"],
    [['influx', '--influx-version', '2', '--from', 'http://h', '--org', 'o', '--bucket', 'x', '--source-db', 'a', '--database', 'b'], "option '--source-db' is for InfluxDB 1.x"],
    [[...INFLUX_ARGS, '--start', 'yesterday'], "option '--start' must be an RFC 3339 time"],
    [[...INFLUX_ARGS, '--start=-7d'], "option '--start' must be an RFC 3339 time"],
    [[...INFLUX_ARGS, '--start', '2026-01-02T00:00:00Z', '--end', '2026-01-01T00:00:00Z'], 'must be before --end'],
    [[...INFLUX_ARGS, '--chunk-rows', '0'], "option '--chunk-rows' must be a positive integer"],
    [[...INFLUX_ARGS, '--table', 't'], "unknown option '--table'"],
    [['postgres', '--from', 'http://h/db', '--table', 't', '--time-column', 'ts', '--database', 'd'], "option '--from' must be a postgres or postgresql URL"],
    [['postgres', '--from', 'postgres://h', '--table', 't', '--time-column', 'ts', '--database', 'd'], 'must name the database'],
    [['postgres', '--from', 'postgres://h/db', '--table', 't', '--database', 'd'], "option '--time-column' is required"],
  ])('refuses %j', (args, message) => {
    expect(() => parseImportJobArgs(args, {})).toThrow(message);
  });

  it('reads times to the nanosecond', () => {
    expect(timeNs('2026-01-01T00:00:00.000000001Z')).toBe(1767225600000000001n);
    expect(timeNs('2026-01-01T01:00:00+01:00')).toBe(1767225600000000000n);
    expect(timeNs('1767225600000000000')).toBe(1767225600000000000n);
  });
});

// --- A server answering the contract's routes from a little state, recording what it receives ---

const EXECUTION: ExecutionJson = {
  id: 7,
  job_id: 3,
  status: 'running',
  trigger: 'manual',
  started_at: '2026-12-06T04:00:00.000Z',
  finished_at: null,
  rows: 0,
  rows_rejected: 0,
  bytes: 0,
  chunks: 0,
  progress: 0,
  eta_seconds: null,
  rows_per_second: 0,
  error: null,
};

interface ContractState {
  connections: Record<string, unknown>[];
  jobs: Record<string, unknown>[];
  /** What the test route answers. */
  test: { ok: boolean; version: string | null; detail: string };
  /** The execution states GET .../executions answers, one per read (the last repeats). */
  executions: ExecutionJson[];
  /** The answer of POST /jobs/{id}/run when not the default 202. */
  run?: FakeAnswer;
  /** Called as each request arrives, before it is answered. */
  onRequest?: (request: ReceivedRequest) => void;
}

function contractAnswer(state: ContractState): (request: ReceivedRequest) => FakeAnswer {
  let reads = 0;
  return (request) => {
    state.onRequest?.(request);
    const route = `${request.method} ${request.url.replace(/\?.*$/, '')}`;
    const body = request.body === '' ? {} : (JSON.parse(request.body) as Record<string, unknown>);
    if (route === 'POST /api/v1/connections/influx/test' || route === 'POST /api/v1/connections/postgres/test') return { status: 200, json: state.test };
    if (route === 'GET /api/v1/connections/influx' || route === 'GET /api/v1/connections/postgres') return { status: 200, json: { connections: state.connections } };
    if (route === 'POST /api/v1/connections/influx' || route === 'POST /api/v1/connections/postgres') {
      const { secret, ...rest } = body;
      const connection = { id: 11, ...rest, has_secret: secret !== undefined, active: false };
      state.connections.push(connection);
      return { status: 201, json: connection };
    }
    if (route === 'PUT /api/v1/jobs/3') return { status: 200, json: { ...state.jobs[0], ...body } };
    if (route.startsWith('PUT /api/v1/connections/')) return { status: 200, json: { ...state.connections[0], ...body, secret: undefined } };
    if (route === 'GET /api/v1/jobs') return { status: 200, json: { jobs: state.jobs } };
    if (route === 'POST /api/v1/jobs') {
      if (body.name === 'taken') return { status: 409, json: { error: "job name 'taken' is taken", code: 'ARC_IMPORT_JOB_NAME_TAKEN' } };
      const job = { id: 3, ...body, enabled: true, last_execution: null };
      state.jobs.push(job);
      return { status: 201, json: job };
    }
    if (route === 'POST /api/v1/jobs/3/run') return state.run ?? { status: 202, json: { execution: EXECUTION } };
    if (route === 'POST /api/v1/jobs/3/cancel') return { status: 200, json: { execution: { ...EXECUTION, status: 'running' } } };
    if (route === 'POST /write/flush') return { status: 200, json: { success: true, flushed: true } };
    if (route === 'GET /api/v1/jobs/3/executions') {
      const execution = state.executions[Math.min(reads, state.executions.length - 1)];
      reads += 1;
      return { status: 200, json: { executions: [execution] } };
    }
    return { status: 404, json: { error: `no route ${route}` } };
  };
}

function io(options: { stdoutIsTTY?: boolean; stderrIsTTY?: boolean; env?: NodeJS.ProcessEnv; interrupt?: AbortSignal } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const streams: ImportJobIo = {
    stdout: { write: (text: string) => out.push(text) },
    stderr: { write: (text: string) => err.push(text) },
    stdoutIsTTY: options.stdoutIsTTY ?? false,
    stderrIsTTY: options.stderrIsTTY ?? false,
    env: options.env ?? { ARC_TOKEN: 'arc-admin', INFLUX_PASSWORD: 'influx-secret-pw' },
    pollIntervalMs: 1,
    ...(options.interrupt === undefined ? {} : { interrupt: options.interrupt }),
  };
  return { out, err, io: streams };
}

const routeOf = (request: ReceivedRequest): string => `${request.method} ${request.url}`;

const progressed = (rows: number, progress: number): ExecutionJson => ({ ...EXECUTION, rows, bytes: rows * 50, chunks: rows / 500, progress, eta_seconds: 30, rows_per_second: 1000 });
const ended = (status: ExecutionJson['status'], rows: number, error: ExecutionJson['error'] = null): ExecutionJson => ({ ...progressed(rows, 1), status, finished_at: '2026-12-06T04:00:12.000Z', eta_seconds: null, error });

function freshState(overrides: Partial<ContractState> = {}): ContractState {
  return { connections: [], jobs: [], test: { ok: true, version: 'InfluxDB 1.8.10', detail: 'database telegraf found' }, executions: [progressed(1000, 0.5), ended('succeeded', 2000)], ...overrides };
}

describe('arc import influx against a server answering the contract', () => {
  it('tests the source, creates the connection and the job, runs it and follows it to success', async () => {
    const state = freshState();
    const arc = await startFakeArc(contractAnswer(state));
    const { out, err, io: streams } = io();
    const code = await importCommand([...INFLUX_ARGS, '--url', arc.url, '--measurement', 'cpu'], streams);
    expect([code, err.join('')]).toEqual([0, '']);
    expect(arc.requests.map(routeOf)).toEqual([
      'GET /api/v1/connections/influx',
      'POST /api/v1/connections/influx/test',
      'POST /api/v1/connections/influx',
      'GET /api/v1/jobs',
      'POST /api/v1/jobs',
      'POST /api/v1/jobs/3/run',
      'GET /api/v1/jobs/3/executions?limit=1',
      'GET /api/v1/jobs/3/executions?limit=1',
      'POST /write/flush',
    ]);
    expect(arc.requests.every((request) => request.headers.authorization === 'Bearer arc-admin')).toBe(true);
    const settings = { version: 1, url: 'http://influx.local:8086', database: 'telegraf' };
    expect(JSON.parse(arc.requests[1]?.body ?? '')).toEqual({ settings, secret: 'influx-secret-pw' });
    expect(JSON.parse(arc.requests[2]?.body ?? '')).toEqual({ name: 'influx-influx.local:8086-telegraf', settings, secret: 'influx-secret-pw' });
    expect(JSON.parse(arc.requests[4]?.body ?? '')).toEqual({ name: 'influx-influx.local:8086-telegraf-cpu-to-metrics', type: 'influx1', source: { measurements: ['cpu'] }, database: 'metrics', range: {}, schedule: null, connection_id: 11 });
    const outcome = JSON.parse(out.join('')) as { job: { id: number }; execution: ExecutionJson };
    expect(outcome.job.id).toBe(3);
    expect(outcome.execution).toMatchObject({ status: 'succeeded', rows: 2000 });
    expect(out.join('') + err.join('')).not.toContain('influx-secret-pw');
  });

  it('stops with the test\'s detail when the source does not answer, before writing anything', async () => {
    const state = freshState({ test: { ok: false, version: null, detail: 'authenticate: 401 authorization failed' } });
    const arc = await startFakeArc(contractAnswer(state));
    const { err, io: streams } = io();
    expect(await importCommand([...INFLUX_ARGS, '--url', arc.url], streams)).toBe(1);
    expect(err.join('')).toBe('arc import influx: the source does not answer as expected (http://influx.local:8086): authenticate: 401 authorization failed\n');
    expect(arc.requests.map(routeOf)).toEqual(['GET /api/v1/connections/influx', 'POST /api/v1/connections/influx/test']);
  });

  it('reuses the connection and the job of the same settings, testing the stored connection, and follows a run already going', async () => {
    const connection = { id: 11, type: 'influx', name: 'influx-influx.local:8086-telegraf', settings: { version: 1, url: 'http://influx.local:8086', database: 'telegraf' }, has_secret: true };
    const job = { id: 3, name: 'influx-influx.local:8086-telegraf-to-metrics', connection_id: 11, type: 'influx1', source: {}, database: 'metrics', range: { start: null, end: null, since_last_run: false }, schedule: null };
    const state = freshState({ connections: [connection], jobs: [job], run: { status: 409, json: { error: 'job is running', code: 'ARC_IMPORT_JOB_RUNNING' } } });
    const arc = await startFakeArc(contractAnswer(state));
    const { out, err, io: streams } = io({ env: { ARC_TOKEN: 'arc-admin' }, stderrIsTTY: true, stdoutIsTTY: true });
    expect(await importCommand([...INFLUX_ARGS, '--url', arc.url], streams)).toBe(0);
    expect(arc.requests.map(routeOf)).toEqual([
      'GET /api/v1/connections/influx',
      'POST /api/v1/connections/influx/test',
      'GET /api/v1/jobs',
      'POST /api/v1/jobs/3/run',
      'GET /api/v1/jobs/3/executions?limit=1',
      'GET /api/v1/jobs/3/executions?limit=1',
      'POST /write/flush',
    ]);
    expect(JSON.parse(arc.requests[1]?.body ?? '')).toEqual({ id: 11 });
    const stderr = err.join('');
    expect(stderr).toContain("reusing job 'influx-influx.local:8086-telegraf-to-metrics' (id 3)");
    expect(stderr).toContain('is running already (execution 7): following it');
    // The terminal's progress bar, redrawn in place.
    expect(stderr).toContain('\r[#####.....] 50% 1,000 rows, 1,000 rows/s, 48.8 KiB, 30s left\x1b[K');
    expect(out.join('')).toBe("job 'influx-influx.local:8086-telegraf-to-metrics': succeeded, 2,000 rows (0 rejected), 97.7 KiB in 12s\n");
  });

  it('puts a new secret on a stored connection and refuses a job of the same name with other settings', async () => {
    const connection = { id: 11, name: 'influx-influx.local:8086-telegraf', settings: { version: 1, url: 'http://influx.local:8086', database: 'telegraf' }, has_secret: true };
    const job = { id: 3, name: 'influx-influx.local:8086-telegraf-to-metrics', connection_id: 11, type: 'influx1', source: {}, database: 'metrics', range: { end: '2026-01-01T00:00:00Z' }, schedule: null };
    const state = freshState({ connections: [connection], jobs: [job] });
    const arc = await startFakeArc(contractAnswer(state));
    const { err, io: streams } = io();
    expect(await importCommand([...INFLUX_ARGS, '--url', arc.url, '--end', '2026-02-01T00:00:00Z'], streams)).toBe(1);
    expect(arc.requests.map(routeOf)).toEqual(['GET /api/v1/connections/influx', 'POST /api/v1/connections/influx/test', 'PUT /api/v1/connections/influx/11', 'GET /api/v1/jobs']);
    expect(JSON.parse(arc.requests[2]?.body ?? '')).toEqual({ secret: 'influx-secret-pw' });
    expect(err.join('')).toBe("arc import influx: a job named 'influx-influx.local:8086-telegraf-to-metrics' (id 3) exists with another --end: pass --name to create another job, or delete it (DELETE /api/v1/jobs/3)\n");
  });

  it('continues a cancelled run from its checkpoint when the same command runs again', async () => {
    const job = { id: 3, name: 'influx-influx.local:8086-telegraf-to-metrics', connection_id: 11, type: 'influx1', source: {}, database: 'metrics', range: {}, schedule: null, last_execution: ended('cancelled', 1500) };
    const connection = { id: 11, name: 'influx-influx.local:8086-telegraf', settings: { version: 1, url: 'http://influx.local:8086', database: 'telegraf' }, has_secret: true };
    const arc = await startFakeArc(contractAnswer(freshState({ connections: [connection], jobs: [job] })));
    const { err, io: streams } = io({ env: { ARC_TOKEN: 'arc-admin' }, stderrIsTTY: true });
    expect(await importCommand([...INFLUX_ARGS, '--url', arc.url], streams)).toBe(0);
    const run = arc.requests.find((request) => request.url === '/api/v1/jobs/3/run');
    expect(JSON.parse(run?.body ?? '')).toEqual({ resume: true });
    expect(err.join('')).toContain('continuing execution 7 (cancelled at 1,500 rows) from its checkpoint');

    const succeeded = await startFakeArc(contractAnswer(freshState({ connections: [connection], jobs: [{ ...job, last_execution: ended('succeeded', 2000) }] })));
    expect(await importCommand([...INFLUX_ARGS, '--url', succeeded.url], io().io)).toBe(0);
    expect(JSON.parse(succeeded.requests.find((request) => request.url === '/api/v1/jobs/3/run')?.body ?? '')).toEqual({});
  });

  it('cancels the run on Ctrl-C and says how to resume', async () => {
    const interrupt = new AbortController();
    const state = freshState({
      executions: [progressed(1000, 0.25), ended('cancelled', 1500)],
      // Ctrl-C while the first read of the execution is on its way.
      onRequest: (request) => {
        if (request.url.includes('/executions')) interrupt.abort();
      },
    });
    const arc = await startFakeArc(contractAnswer(state));
    const { out, err, io: streams } = io({ interrupt: interrupt.signal });
    expect(await importCommand([...INFLUX_ARGS, '--url', arc.url], streams)).toBe(1);
    expect(arc.requests.map(routeOf).slice(-3)).toEqual(['GET /api/v1/jobs/3/executions?limit=1', 'POST /api/v1/jobs/3/cancel', 'GET /api/v1/jobs/3/executions?limit=1']);
    expect(JSON.parse(out.join(''))).toMatchObject({ execution: { status: 'cancelled', rows: 1500 } });
    expect(err.join('')).toBe(
      "arc import: cancelling job 'influx-influx.local:8086-telegraf-to-metrics' (id 3)...\n" +
        "arc import: cancelled at 1,500 rows: run the same command again to continue job 'influx-influx.local:8086-telegraf-to-metrics' (id 3) from its last written chunk\n",
    );
  });

  it('exits 1 with the execution\'s error when the run fails, and with the server\'s error when it refuses', async () => {
    const failing = await startFakeArc(contractAnswer(freshState({ executions: [ended('failed', 500, { code: 'ARC_IMPORT_SOURCE_FAILED', message: "measurement 'cpu': connection reset" })] })));
    const first = io();
    expect(await importCommand([...INFLUX_ARGS, '--url', failing.url], first.io)).toBe(1);
    expect(first.err.join('')).toBe(
      "arc import: job 'influx-influx.local:8086-telegraf-to-metrics' failed at 500 rows: measurement 'cpu': connection reset (ARC_IMPORT_SOURCE_FAILED); " +
        "once the cause is fixed, run the same command again to continue job 'influx-influx.local:8086-telegraf-to-metrics' (id 3) from its last written chunk\n",
    );
    const refusing = await startFakeArc(contractAnswer(freshState()));
    const second = io();
    expect(await importCommand([...INFLUX_ARGS, '--url', refusing.url, '--name', 'taken'], second.io)).toBe(1);
    expect(second.err.join('')).toBe("arc import influx: POST /api/v1/jobs answered 409: job name 'taken' is taken (ARC_IMPORT_JOB_NAME_TAKEN)\n");
  });

  it('creates a scheduled job without running it, gives an existing job a schedule, and starts a run without following it with --no-wait', async () => {
    const scheduled = freshState();
    const arc = await startFakeArc(contractAnswer(scheduled));
    const first = io({ stdoutIsTTY: true });
    expect(await importCommand([...INFLUX_ARGS, '--url', arc.url, '--schedule', '0 * * * *', '--since-last-run'], first.io)).toBe(0);
    expect(arc.requests.map(routeOf).at(-1)).toBe('POST /api/v1/jobs');
    expect(JSON.parse(arc.requests.at(-1)?.body ?? '')).toMatchObject({ schedule: '0 * * * *', range: { since_last_run: true } });
    expect(first.out.join('')).toBe("job 'influx-influx.local:8086-telegraf-to-metrics' (id 3) created: the server runs it on schedule '0 * * * *' (UTC)\n");

    // The same command with --schedule on the job it made: the job is kept (its last run too) and gets the schedule.
    const job = { id: 3, name: 'influx-influx.local:8086-telegraf-to-metrics', connection_id: 11, type: 'influx1', source: {}, database: 'metrics', range: { since_last_run: true }, schedule: null, last_execution: ended('succeeded', 2000) };
    const connection = { id: 11, name: 'influx-influx.local:8086-telegraf', settings: { version: 1, url: 'http://influx.local:8086', database: 'telegraf' }, has_secret: true };
    const kept = await startFakeArc(contractAnswer(freshState({ connections: [connection], jobs: [job] })));
    const third = io({ stdoutIsTTY: true, env: { ARC_TOKEN: 'arc-admin' } });
    expect(await importCommand([...INFLUX_ARGS, '--url', kept.url, '--since-last-run', '--schedule', '*/10 * * * *'], third.io)).toBe(0);
    expect(kept.requests.map(routeOf).slice(2)).toEqual(['GET /api/v1/jobs', 'PUT /api/v1/jobs/3']);
    expect(JSON.parse(kept.requests.at(-1)?.body ?? '')).toEqual({ name: job.name, type: 'influx1', source: {}, database: 'metrics', range: { since_last_run: true }, schedule: '*/10 * * * *', connection_id: 11 });
    expect(third.out.join('')).toBe("job 'influx-influx.local:8086-telegraf-to-metrics' (id 3) kept: the server runs it on schedule '*/10 * * * *' (UTC)\n");

    const other = await startFakeArc(contractAnswer(freshState()));
    const second = io();
    expect(await importCommand([...INFLUX_ARGS, '--url', other.url, '--no-wait'], second.io)).toBe(0);
    expect(other.requests.map(routeOf).at(-1)).toBe('POST /api/v1/jobs/3/run');
    expect(JSON.parse(second.out.join(''))).toMatchObject({ job: { id: 3 }, execution: { id: 7, status: 'running' } });
  });
});

describe('arc import postgres against a server answering the contract', () => {
  it('sends the table job to the postgres routes, the password as the secret only', async () => {
    const state = freshState({ test: { ok: true, version: 'PostgreSQL 15.18', detail: '' } });
    const arc = await startFakeArc(contractAnswer(state));
    const { out, err, io: streams } = io({ env: { ARC_TOKEN: 'arc-admin', PGPASSWORD: 'pg-secret-pw' } });
    const code = await importJobCommand(['postgres', '--from', 'postgres://app@db.local:5432/shop', '--table', 'orders', '--time-column', 'ts', '--database', 'sales', '--url', arc.url], streams);
    expect([code, err.join('')]).toEqual([0, '']);
    expect(arc.requests.map(routeOf).slice(0, 5)).toEqual(['GET /api/v1/connections/postgres', 'POST /api/v1/connections/postgres/test', 'POST /api/v1/connections/postgres', 'GET /api/v1/jobs', 'POST /api/v1/jobs']);
    expect(JSON.parse(arc.requests[2]?.body ?? '')).toEqual({ name: 'postgres-db.local:5432-shop', settings: { url: 'postgres://app@db.local:5432/shop' }, secret: 'pg-secret-pw' });
    expect(JSON.parse(arc.requests[4]?.body ?? '')).toMatchObject({ type: 'postgres', source: { table: 'orders', time_column: 'ts' }, database: 'sales', connection_id: 11 });
    expect(out.join('')).not.toContain('pg-secret-pw');
  });
});

describe('output and reuse rules', () => {
  it('draws progress without a bar when the source cannot tell its share', () => {
    expect(executionProgressLine({ ...progressed(1234567, 0.413), rows_rejected: 3, rows_per_second: 52000.4, bytes: 12.3 * 1024 * 1024, eta_seconds: 130 })).toBe('[####......] 41% 1,234,567 rows (3 rejected), 52,000 rows/s, 12.3 MiB, 2m10s left');
    expect(executionProgressLine({ ...progressed(500, 0), progress: null, eta_seconds: null })).toBe('500 rows, 1,000 rows/s, 24.4 KiB');
    expect(executionProgressLine({ ...progressed(2000, 1), eta_seconds: 2 })).toBe('[##########] 100% 2,000 rows, 1,000 rows/s, 97.7 KiB');
  });

  it('takes the server\'s own form of a time and its defaults as the same job', () => {
    const wanted = parseImportJobArgs([...INFLUX_ARGS, '--start', '2026-01-01T00:00:00Z'], {}).job;
    const stored = { id: 3, name: wanted.name, connection_id: 11, type: 'influx1', source: { measurement_prefix: null }, database: 'metrics', range: { start: 1767225600000000000, end: null }, schedule: null };
    expect(jobDifferences(wanted, 11, stored)).toEqual([]);
    expect(jobDifferences(wanted, 12, { ...stored, database: 'x', schedule: '* * * * *', range: {} })).toEqual(['connection', 'database', '--start']);
  });
});
