// Proves the compaction endpoints answer over real HTTP (uWS in this process, the real auth gate
// and token store, a recording stand-in for the compactor): every route under both prefixes, the
// scope passed through checked, bad tiers, names, limits and body keys refused with 400 naming
// them, the trigger admin-only with an empty body allowed, lists cut to the token's databases,
// and the compactor's refusal (compaction off) answered 409.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import uWS from 'uWebSockets.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TokenStore, TokenVerifier } from '@arc/auth';
import {
  CompactionErrorCode,
  compactionDisabledError,
  type CompactionCandidate,
  type CompactionControl,
  type CompactionJob,
  type CompactionStats,
  type CompactionStatus,
  type TriggerRequest,
} from '@arc/compaction';
import { compactionJob } from '../../compaction/test/support/compaction-job.js';
import { AuthGate } from '../src/auth-gate.js';
import { compactionRoutes, type CompactionRouteDeps } from '../src/compaction-routes.js';
import { createLogger } from '../src/log.js';
import { registerManagementRoutes } from '../src/management-route.js';
import type { ServerContext } from '../src/server-context.js';

const STATUS: CompactionStatus = {
  enabled: true,
  dedup: true,
  running: 1,
  queued: 2,
  maxConcurrentJobs: 1,
  liveMaxFiles: 16,
  liveIntervalSeconds: 10,
  hourlySchedule: '5 * * * *',
  dailySchedule: '0 3 * * *',
  nextHourlyRun: '2026-12-05T10:05:00.000Z',
  nextDailyRun: '2026-12-06T03:00:00.000Z',
};
const STATS: CompactionStats = { jobsSucceeded: 3, jobsFailed: 1, filesIn: 30, filesOut: 3, bytesIn: 3000, bytesOut: 1000, rowsIn: 500, rowsOut: 450, duplicatesRemoved: 50 };


const job = (id: string, database: string, state: CompactionJob['state'] = 'queued'): CompactionJob =>
  compactionJob(id, { database, state, trigger: 'manual', inputFiles: 4, inputBytes: 400 });

const candidate = (database: string): CompactionCandidate => ({ database, measurement: 'cpu', tier: 'live', partition: '2026/12/05/09', files: 20, bytes: 2000 });

/** A stand-in compactor that records what the routes asked of it. */
class RecordingControl implements CompactionControl {
  calls: { method: string; argument: unknown }[] = [];
  triggerError: Error | null = null;

  status(): CompactionStatus {
    return STATUS;
  }
  stats(): CompactionStats {
    return STATS;
  }
  candidates(scope: TriggerRequest): Promise<CompactionCandidate[]> {
    this.calls.push({ method: 'candidates', argument: scope });
    return Promise.resolve([candidate('metrics'), candidate('secret')]);
  }
  jobs(): CompactionJob[] {
    return [job('c-1', 'metrics', 'running'), job('c-2', 'secret')];
  }
  history(options: { limit: number; database?: string; measurement?: string }): CompactionJob[] {
    this.calls.push({ method: 'history', argument: options });
    return [job('c-0', 'secret', 'succeeded'), job('c-9', 'metrics', 'failed')];
  }
  trigger(request: TriggerRequest): Promise<CompactionJob[]> {
    this.calls.push({ method: 'trigger', argument: request });
    if (this.triggerError !== null) return Promise.reject(this.triggerError);
    return Promise.resolve([job('c-3', request.database ?? 'metrics')]);
  }
}

interface Served {
  readonly url: string;
  close(): void;
}

function serve(deps: CompactionRouteDeps, auth: AuthGate): Promise<Served> {
  const app = uWS.App();
  const context = { auth, log: createLogger('error', 'text') } as unknown as ServerContext;
  registerManagementRoutes(app, context, compactionRoutes(deps));
  return new Promise((resolve, reject) => {
    app.listen('127.0.0.1', 0, (socket) => {
      if (socket === false) return reject(new Error('listen failed'));
      resolve({ url: `http://127.0.0.1:${String(uWS.us_socket_local_port(socket))}`, close: () => uWS.us_listen_socket_close(socket) });
    });
  });
}

let directory = '';
let store: TokenStore;
let auth: AuthGate;
const tokens = { admin: '', reader: '', metricsReader: '', writer: '' };
const control = new RecordingControl();
let served: Served;

async function call(path: string, token: string, init: { method?: string; body?: string } = {}, base = served.url): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${base}${path}`, { method: init.method ?? 'GET', headers: { authorization: `Bearer ${token}` }, body: init.body ?? null });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'arc-compaction-routes-'));
  store = TokenStore.open(join(directory, 'arc.db'));
  tokens.admin = store.create({ name: 'admin', permissions: ['admin'] }).token;
  tokens.reader = store.create({ name: 'reader', permissions: ['read'] }).token;
  tokens.metricsReader = store.create({ name: 'metrics-reader', permissions: ['read'], databases: ['metrics'] }).token;
  tokens.writer = store.create({ name: 'writer', permissions: ['write'] }).token;
  auth = new AuthGate(new TokenVerifier(store, 30_000));
  served = await serve({ control, auth }, auth);
});

afterAll(() => {
  served.close();
  store.close();
  rmSync(directory, { recursive: true, force: true });
});

beforeEach(() => {
  control.calls = [];
  control.triggerError = null;
});

describe('compaction routes', () => {
  it.each(['/api/compaction', '/api/v1/compaction'])('answers status and stats under %s to a read token', async (prefix) => {
    expect(await call(`${prefix}/status`, tokens.reader)).toEqual({ status: 200, body: STATUS });
    expect(await call(`${prefix}/stats`, tokens.reader)).toEqual({ status: 200, body: STATS });
  });

  it('refuses a request without a token (401) and a token without read (403)', async () => {
    expect((await call('/api/compaction/status', 'not-a-token')).status).toBe(401);
    expect((await call('/api/compaction/jobs', tokens.writer)).status).toBe(403);
  });

  it('lists candidates of the checked scope; empty parameters count as absent', async () => {
    const answer = await call('/api/v1/compaction/candidates?database=metrics&measurement=cpu&tier=live', tokens.reader);
    expect(answer).toEqual({ status: 200, body: { candidates: [candidate('metrics'), candidate('secret')] } });
    await call('/api/compaction/candidates?database=&measurement=&tier=', tokens.reader);
    expect(control.calls).toEqual([
      { method: 'candidates', argument: { database: 'metrics', measurement: 'cpu', tier: 'live' } },
      { method: 'candidates', argument: {} },
    ]);
  });

  it('refuses an unknown tier, naming it and the tiers that exist', async () => {
    const answer = await call('/api/compaction/candidates?tier=weekly', tokens.reader);
    expect(answer).toEqual({
      status: 400,
      body: { error: "Unknown compaction tier 'weekly': must be one of live, hourly, daily", code: CompactionErrorCode.badTier, tier: 'weekly' },
    });
    expect(control.calls).toEqual([]);
  });

  it('refuses names that are not database or measurement names', async () => {
    const database = await call('/api/compaction/candidates?database=bad%20name', tokens.reader);
    expect(database.status).toBe(400);
    expect(database.body).toMatchObject({ code: 'ARC_BAD_DATABASE_NAME', database: 'bad name' });
    const measurement = await call(`/api/compaction/history?measurement=${'m'.repeat(300)}`, tokens.reader);
    expect(measurement.status).toBe(400);
    expect(measurement.body).toMatchObject({ code: 'ARC_BAD_MEASUREMENT_NAME' });
    expect(control.calls).toEqual([]);
  });

  it('shows a token limited to some databases only theirs, and 403 for another one named', async () => {
    expect((await call('/api/compaction/candidates', tokens.metricsReader)).body).toEqual({ candidates: [candidate('metrics')] });
    expect((await call('/api/compaction/jobs', tokens.metricsReader)).body).toEqual({ jobs: [job('c-1', 'metrics', 'running')] });
    expect((await call('/api/compaction/history', tokens.metricsReader)).body).toEqual({ jobs: [job('c-9', 'metrics', 'failed')] });
    const denied = await call('/api/compaction/history?database=secret', tokens.metricsReader);
    expect(denied.status).toBe(403);
    // An unlimited reader sees everything.
    expect((await call('/api/compaction/jobs', tokens.reader)).body).toEqual({ jobs: [job('c-1', 'metrics', 'running'), job('c-2', 'secret')] });
  });

  it('reads the history with limit 100 by default, 1..1000, and its filters', async () => {
    await call('/api/compaction/history', tokens.reader);
    await call('/api/compaction/history?limit=1000&database=metrics&measurement=cpu', tokens.reader);
    expect(control.calls).toEqual([
      { method: 'history', argument: { limit: 100 } },
      { method: 'history', argument: { limit: 1000, database: 'metrics', measurement: 'cpu' } },
    ]);
    for (const limit of ['0', '1001', 'ten', '1.5', '-1']) {
      const answer = await call(`/api/compaction/history?limit=${limit}`, tokens.reader);
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({ code: 'ARC_QUERY_BAD_PARAMETER', parameter: 'limit', error: expect.stringContaining('"limit" must be an integer from 1 to 1000') as unknown });
    }
    expect(control.calls).toHaveLength(2);
  });

  it('triggers for an admin only, with an empty body meaning everything: 202 with the queued jobs', async () => {
    expect((await call('/api/compaction/trigger', tokens.reader, { method: 'POST', body: '{}' })).status).toBe(403);
    expect(control.calls).toEqual([]);
    expect(await call('/api/compaction/trigger', tokens.admin, { method: 'POST' })).toEqual({ status: 202, body: { jobs: [job('c-3', 'metrics')] } });
    const scoped = await call('/api/v1/compaction/trigger', tokens.admin, { method: 'POST', body: '{"database": "logs", "measurement": "cpu", "tier": "daily"}' });
    expect(scoped).toEqual({ status: 202, body: { jobs: [job('c-3', 'logs')] } });
    expect(control.calls).toEqual([
      { method: 'trigger', argument: {} },
      { method: 'trigger', argument: { database: 'logs', measurement: 'cpu', tier: 'daily' } },
    ]);
  });

  it.each([
    ['{"database": "metrics", "force": true}', 'ARC_BAD_REQUEST_BODY', "unknown field 'force'"],
    ['{"tier": 3}', 'ARC_BAD_REQUEST_BODY', "field 'tier' must be a string"],
    ['{"tier": "weekly"}', CompactionErrorCode.badTier, "Unknown compaction tier 'weekly'"],
    ['{"database": "no/slash"}', 'ARC_BAD_DATABASE_NAME', 'no/slash'],
    ['[1]', 'ARC_BAD_JSON', 'must be a JSON object'],
    ['{"tier": ', 'ARC_BAD_JSON', 'not valid JSON'],
  ])('refuses the trigger body %s with 400 %s', async (body, code, message) => {
    const answer = await call('/api/compaction/trigger', tokens.admin, { method: 'POST', body });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ code, error: expect.stringContaining(message) as unknown });
    expect(control.calls).toEqual([]);
  });

  it('passes the compactor\'s refusal through the error mapper (409 when compaction is off)', async () => {
    control.triggerError = compactionDisabledError();
    const answer = await call('/api/compaction/trigger', tokens.admin, { method: 'POST', body: '{}' });
    expect(answer).toEqual({ status: 409, body: { error: compactionDisabledError().message, code: CompactionErrorCode.disabled } });
  });
});
