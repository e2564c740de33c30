// Proves `arc retention` parses its subcommands (ids, days, options a subcommand does not take,
// a policy checked as the server checks it: exit 2 naming the option) and, against a node:http
// server in the test playing Arc's retention endpoints, creates, updates (the policy read, changed
// and replaced whole), lists executions, and runs a policy with a progress bar on a terminal
// while the run's request is open, exiting 1 when the run failed or the server refused.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseRetentionArgs, retentionCommand, type RetentionIo } from '../src/retention-command.js';

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
class FakeArc {
  readonly requests: string[] = [];
  progressReads = 2;
  executed: unknown = EXECUTED;
  #server: Server | null = null;
  #reads = 0;
  #finishRun: (() => void) | null = null;

  async start(): Promise<string> {
    this.#server = createServer((request, response) => void this.#answer(request, response));
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${String((this.#server.address() as AddressInfo).port)}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.#server?.close(() => resolve()) ?? resolve());
  }

  async #answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    let body = '';
    for await (const chunk of request) body += String(chunk);
    const line = `${request.method ?? ''} ${request.url ?? ''}${body === '' ? '' : ` ${body}`}`;
    this.requests.push(line);
    const send = (status: number, value: unknown): void => {
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
    };
    if (request.method === 'GET' && request.url === '/api/v1/retention') {
      send(200, [POLICY]);
      return;
    }
    if (request.url === '/api/v1/retention/404') {
      send(404, { error: 'No retention policy has id 404', code: 'ARC_RETENTION_NOT_FOUND' });
      return;
    }
    if (request.method === 'POST' && request.url === '/api/v1/retention/3/execute') {
      await new Promise<void>((resolve) => (this.#finishRun = resolve));
      send(200, this.executed);
      return;
    }
    if (request.method === 'GET' && request.url === '/api/v1/retention/3') {
      this.#reads += 1;
      const running = this.#finishRun === null ? null : { dry_run: true, started_at: '', measurements_done: this.#reads, measurements_total: 4, files_done: this.#reads * 3 };
      send(200, { ...POLICY, running });
      if (this.#reads >= this.progressReads) this.#finishRun?.();
      return;
    }
    const run = { id: 9, execution_time: '2026-12-01T02:00:00.000Z', status: 'failed', dry_run: false, deleted_count: 5, files_deleted: 1, files_rewritten: 0, bytes_removed: 100, execution_duration_ms: 40, error_message: 'disk full' };
    if (request.url === '/api/v1/retention/3/executions?limit=2') send(200, { policy_id: 3, executions: [run] });
    else send(request.method === 'POST' ? 201 : 200, { ...POLICY, ...(body === '' ? {} : (JSON.parse(body) as object)) });
  }
}

let fake: FakeArc | null = null;
afterEach(async () => {
  await fake?.stop();
  fake = null;
});

function io(stderrIsTTY: boolean): RetentionIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: { write: (text: string) => out.push(text) }, stderr: { write: (text: string) => err.push(text) }, stderrIsTTY, env: { ARC_TOKEN: 't' }, pollIntervalMs: 5 };
}

describe('arc retention against a server', () => {
  it('creates a policy, refusing a bad one before asking the server', async () => {
    fake = new FakeArc();
    const url = await fake.start();
    const bad = io(false);
    expect(await retentionCommand(['create', '--url', url, '--name', 'p', '--database', 'metrics', '--retention-days', '0'], bad)).toBe(2);
    expect(bad.err.join('')).toContain("option '--retention-days': must be 1..36500, got 0");
    const good = io(false);
    expect(await retentionCommand(['create', '--url', url, '--name', 'p', '--database', 'metrics', '--retention-days', '3', '--inactive'], good)).toBe(0);
    expect(fake.requests).toEqual(['POST /api/v1/retention {"name":"p","database":"metrics","retention_days":3,"is_active":false}']);
  });

  it('updates by reading the policy and replacing it whole', async () => {
    fake = new FakeArc();
    const url = await fake.start();
    expect(await retentionCommand(['update', '3', '--url', url, '--buffer-days', '0', '--all-measurements'], io(false))).toBe(0);
    expect(fake.requests).toEqual(['GET /api/v1/retention/3', 'PUT /api/v1/retention/3 {"name":"cpu-30d","database":"metrics","measurement":null,"retention_days":30,"buffer_days":0,"is_active":true}']);
  });

  it('runs a policy with a progress bar on a terminal, and prints what the dry run would remove', async () => {
    fake = new FakeArc();
    const url = await fake.start();
    const tty = io(true);
    expect(await retentionCommand(['execute', '3', '--dry-run', '--url', url], tty)).toBe(0);
    expect(fake.requests[0]).toBe('POST /api/v1/retention/3/execute {"dry_run":true}');
    expect(tty.err.join('')).toContain('\r[#####.....] 2/4 measurements, 6 files');
    expect(tty.out.join('')).toContain('would remove 1204 rows: 2 files deleted, 1 rewritten; 4.0 KiB deleted, 2.0 KiB rewritten');
    expect(tty.out.join('')).toContain('drop    metrics/cpu/2026/10/01/00/a.parquet  1000  4.0 KiB');
  });

  it('exits 1 when the run failed, or the server refused; lists runs', async () => {
    fake = new FakeArc();
    const url = await fake.start();
    fake.progressReads = 0;
    fake.executed = { ...EXECUTED, dry_run: false, status: 'failed', error_message: '1 rewrite jobs failed' };
    const failedRun = io(false);
    const running = retentionCommand(['execute', '3', '--url', url], failedRun);
    // Without a terminal nothing reads the progress: the test's read lets the run answer.
    while (!fake.requests.some((line) => line.startsWith('POST'))) await new Promise<void>((resolve) => setImmediate(resolve));
    await fetch(`${url}/api/v1/retention/3`);
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
});
