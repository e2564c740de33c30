// Proves `arc retention` parses its subcommands (ids, days, options a subcommand does not take,
// a policy checked as the server checks it: exit 2 naming the option) and, against a node:http
// server in the test playing Arc's retention endpoints, creates, updates (the policy read, changed
// and replaced whole), lists executions, and runs a policy with a progress bar on a terminal
// while the run's request is open (reported even when it answers later than fetch would wait),
// exiting 1 when the run failed or the server refused.
import { describe, expect, it } from 'vitest';
import { waitUntil } from '../../../test/support/poll-until.js';
import { parseRetentionArgs, retentionCommand, type RetentionIo } from '../src/retention-command.js';
import { requestLine, startFakeArc, type FakeAnswer, type FakeArc, type ReceivedRequest } from './support/fake-arc.js';
import { fetchGivesUpOn, withShortFetchHeadersTimeout } from './support/fetch-headers-timeout.js';

const POLICY = { id: 3, name: 'cpu-30d', database: 'metrics', measurement: 'cpu', retention_days: 30, buffer_days: 7, is_active: true, last_execution_time: null, last_execution_status: null, last_deleted_count: null, running: null };
const EXECUTED = {
  policy_name: 'cpu-30d',
  dry_run: true,
  status: 'completed',
  cutoff_date: '2026-10-29T12:00:00.000Z',
  deleted_count: 1204,
  files_deleted: 2,
  files_rewritten: 1,
  bytes_removed: 4096,
  bytes_rewritten: 2048,
  execution_time_ms: 1500,
  error_message: null,
  files: [{ measurement: 'cpu', key: 'metrics/cpu/2026/10/01/00/a.parquet', action: 'drop', rows: 1000, bytes: 4096 }],
  files_truncated: false,
};

describe('parseRetentionArgs', () => {
  it('reads the subcommand, the id and the token (ARC_TOKEN unless --token)', () => {
    expect(parseRetentionArgs(['execute', '7', '--dry-run', '--url', 'http://arc:9/'], { ARC_TOKEN: 'env' })).toMatchObject({ subcommand: 'execute', policy: 7, url: 'http://arc:9', token: 'env', values: { 'dry-run': true } });
    expect(parseRetentionArgs(['show', 'cpu-30d'], {})).toMatchObject({ policy: 'cpu-30d' });
    expect(parseRetentionArgs(['list', '--token', 'flag', '--json'], { ARC_TOKEN: 'env' })).toMatchObject({ subcommand: 'list', policy: null, token: 'flag', json: true });
  });

  it.each([
    [[], 'a subcommand is required'],
    [['purge'], "unknown subcommand 'purge'"],
    [['show'], "'show' takes one policy (its id or name)"],
    [['show', '0'], "a policy id must be a positive integer, got '0'"],
    [['list', '3'], "'list' takes no argument"],
    [['list', '--dry-run'], "unknown option '--dry-run'"],
    [['execute', '1', '--limit', '3'], "unknown option '--limit'"],
  ])('refuses %j', (args, message) => {
    expect(() => parseRetentionArgs(args, {})).toThrow(message);
  });
});

/** Arc's retention endpoints as a script; a run answers after `progressReads` reads of the policy. */
class RetentionScript {
  progressReads = 2;
  executed: unknown = EXECUTED;
  #server: FakeArc | null = null;
  #reads = 0;
  /** Lets each run received so far answer. */
  readonly #runsWaiting: (() => void)[] = [];

  async start(): Promise<string> {
    this.#server = await startFakeArc((request) => this.#answer(request));
    return this.#server.url;
  }

  /** The requests received, as `METHOD /path?query body`. */
  get requests(): string[] {
    return this.#server?.requests.map(requestLine) ?? [];
  }

  /** Lets the runs waiting for their progress reads answer now. */
  finishRuns(): void {
    for (const finish of this.#runsWaiting) finish();
  }

  async #answer(request: ReceivedRequest): Promise<FakeAnswer> {
    if (request.method === 'GET' && request.url === '/api/v1/retention') return { status: 200, json: [POLICY] };
    if (request.url === '/api/v1/retention/404') return { status: 404, json: { error: 'No retention policy has id 404', code: 'ARC_RETENTION_NOT_FOUND' } };
    if (request.method === 'POST' && request.url === '/api/v1/retention/3/execute') {
      await new Promise<void>((resolve) => this.#runsWaiting.push(resolve));
      return { status: 200, json: this.executed };
    }
    if (request.method === 'GET' && request.url === '/api/v1/retention/3') {
      this.#reads += 1;
      const running = this.#runsWaiting.length === 0 ? null : { dry_run: true, started_at: '', measurements_done: this.#reads, measurements_total: 4, files_done: this.#reads * 3 };
      if (this.#reads >= this.progressReads) this.finishRuns();
      return { status: 200, json: { ...POLICY, running } };
    }
    const run = { id: 9, execution_time: '2026-12-01T02:00:00.000Z', status: 'failed', dry_run: false, deleted_count: 5, files_deleted: 1, files_rewritten: 0, bytes_removed: 100, execution_duration_ms: 40, error_message: 'disk full' };
    if (request.url === '/api/v1/retention/3/executions?limit=2') return { status: 200, json: { policy_id: 3, executions: [run] } };
    return { status: request.method === 'POST' ? 201 : 200, json: { ...POLICY, ...(request.body === '' ? {} : (JSON.parse(request.body) as object)) } };
  }
}

function io(stderrIsTTY: boolean): RetentionIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: { write: (text: string) => out.push(text) }, stderr: { write: (text: string) => err.push(text) }, stderrIsTTY, env: { ARC_TOKEN: 't' }, pollIntervalMs: 5 };
}

describe('arc retention against a server', () => {
  it('creates a policy, refusing a bad one before asking the server', async () => {
    const fake = new RetentionScript();
    const url = await fake.start();
    const bad = io(false);
    expect(await retentionCommand(['create', '--url', url, '--name', 'p', '--database', 'metrics', '--retention-days', '0'], bad)).toBe(2);
    expect(bad.err.join('')).toContain("option '--retention-days': must be 1..36500, got 0");
    const good = io(false);
    expect(await retentionCommand(['create', '--url', url, '--name', 'p', '--database', 'metrics', '--retention-days', '3', '--inactive'], good)).toBe(0);
    expect(fake.requests).toEqual(['POST /api/v1/retention {"name":"p","database":"metrics","retention_days":3,"is_active":false}']);
  });

  it('updates by reading the policy and replacing it whole', async () => {
    const fake = new RetentionScript();
    const url = await fake.start();
    expect(await retentionCommand(['update', '3', '--url', url, '--buffer-days', '0', '--all-measurements'], io(false))).toBe(0);
    expect(fake.requests).toEqual(['GET /api/v1/retention/3', 'PUT /api/v1/retention/3 {"name":"cpu-30d","database":"metrics","measurement":null,"retention_days":30,"buffer_days":0,"is_active":true}']);
  });

  it('runs a policy with a progress bar on a terminal, and prints what the dry run would remove', async () => {
    const fake = new RetentionScript();
    const url = await fake.start();
    const tty = io(true);
    expect(await retentionCommand(['execute', '3', '--dry-run', '--url', url], tty)).toBe(0);
    expect(fake.requests[0]).toBe('POST /api/v1/retention/3/execute {"dry_run":true}');
    expect(tty.err.join('')).toContain('\r[#####.....] 2/4 measurements, 6 files');
    expect(tty.out.join('')).toContain('would remove 1204 rows: 2 files deleted, 1 rewritten; 4.0 KiB deleted, 2.0 KiB rewritten');
    expect(tty.out.join('')).toContain('drop    metrics/cpu/2026/10/01/00/a.parquet  1000  4.0 KiB');
  });

  it('exits 1 when the run failed, or the server refused; lists runs', async () => {
    const fake = new RetentionScript();
    const url = await fake.start();
    fake.progressReads = 0;
    fake.executed = { ...EXECUTED, dry_run: false, status: 'failed', error_message: '1 rewrite jobs failed' };
    const failedRun = io(false);
    const running = retentionCommand(['execute', '3', '--url', url], failedRun);
    // Without a terminal nothing reads the progress: the test lets the run answer.
    await waitUntil('the run reached the server', 10_000, () => fake.requests.some((line) => line.startsWith('POST')));
    fake.finishRuns();
    expect(await running).toBe(1);
    expect(failedRun.out.join('')).toContain('error: 1 rewrite jobs failed');
    const missing = io(false);
    expect(await retentionCommand(['show', '404', '--url', url], missing)).toBe(1);
    expect(missing.err.join('')).toBe('arc retention: GET /api/v1/retention/404 answered 404: No retention policy has id 404 (ARC_RETENTION_NOT_FOUND)\n');
    const unnamed = io(false);
    expect(await retentionCommand(['show', 'nope', '--url', url], unnamed)).toBe(1);
    expect(unnamed.err.join('')).toContain("no retention policy is named 'nope'");
    const runs = io(false);
    // By name: the list gives the id.
    expect(await retentionCommand(['executions', 'cpu-30d', '--limit', '2', '--url', url], runs)).toBe(0);
    expect(runs.out.join('')).toContain('run 9: disk full');
  });

  it('reports a run whose answer comes later than fetch waits for one (five minutes; shortened here)', async () => {
    const fake = new RetentionScript();
    const url = await fake.start();
    fake.progressReads = Number.POSITIVE_INFINITY;
    const run = io(false);
    await withShortFetchHeadersTimeout(async () => {
      const running = retentionCommand(['execute', '3', '--dry-run', '--url', url], run);
      await waitUntil('the run reached the server', 10_000, () => fake.requests.length === 1);
      // A fetch sent after the run gives up on the same held server: the run has now waited longer
      // than fetch waits for an answer's head.
      await fetchGivesUpOn(`${url}/api/v1/retention/3/execute`);
      fake.finishRuns();
      expect(await running).toBe(0);
    });
    expect(run.err.join('')).toBe('');
    expect(run.out.join('')).toContain('would remove 1204 rows');
  });
});
