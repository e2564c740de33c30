// Proves an import job end to end on a running server with the HTTP JSON driver and the connection
// store: a job over a local JSON API copies every record once (counted back by SQL), a second run
// while one runs is a 409, a cancel keeps the checkpoint and a resume finishes the copy, and a
// connection a job uses cannot be deleted; a server stopped during a run resumes it at its next start.
import { once } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollUntil } from '../../../test/support/poll-until.js';
import { expectCleanStop } from './support/clean-stop.js';
import { useSharedArc } from './support/shared-arc.js';
import { useStartedArcs } from './support/started-arcs.js';
import { send } from './support/token-helpers.js';

const shared = useSharedArc();
const { start, started } = useStartedArcs();
/** Whether /v1/slow answers at once (like /v1/all) instead of holding the request. */
let slowAnswers = false;
const BASE_MS = 1_767_225_600_000;
const RECORDS = Array.from({ length: 40 }, (_, index) => ({ ts: BASE_MS + index * 1000, host: index % 2 === 0 ? 'a' : 'b', value: index + 0.5 }));
const WAIT_MS = 30_000;

let server: Server;
let origin = '';
/** Answers of /v1/slow wait here until the test releases them. */
let held: ServerResponse[] = [];

function answer(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/v1/all') return answer(res, { data: RECORDS });
    if (url.pathname === '/v1/slow') {
      if (slowAnswers) return answer(res, { data: RECORDS });
      held.push(res);
      return;
    }
    res.writeHead(404).end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  origin = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
});
afterAll(async () => {
  for (const res of held) res.destroy();
  server.closeAllConnections();
  server.close();
  await once(server, 'close');
});

const mapping = { records: '$.data[*]', time: '$.ts', time_format: 'epoch_ms', measurement: 'cpu', tags: { host: '$.host' }, fields: { value: '$.value' } };

let target = (): string => shared.arc.url;

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const reply = await send(target(), method, path, { body });
  return { status: reply.status, json: reply.text === '' ? {} : (reply.json() as Record<string, unknown>) };
}

async function executionEnds(jobId: number): Promise<Record<string, unknown>> {
  const { value } = await pollUntil(
    `job ${String(jobId)} ends`,
    WAIT_MS,
    async () => ((await call('GET', `/jobs/${String(jobId)}/executions?limit=1`)).json.executions as Record<string, unknown>[])[0],
    (execution) => execution !== undefined && execution.status !== 'running',
    50,
  );
  return value as Record<string, unknown>;
}

async function rowsIn(database: string, expected: number): Promise<void> {
  await pollUntil(
    `${database}.cpu holds ${String(expected)} rows`,
    WAIT_MS,
    async () => {
      await call('POST', '/write/flush');
      const reply = await send(target(), 'POST', '/query', { body: { sql: 'SELECT count(*) FROM cpu', format: 'json' }, headers: { 'x-arc-database': database } });
      return reply.status === 200 ? ((reply.json() as { data: number[][] }).data[0]?.[0] ?? 0) : reply.status;
    },
    (seen) => seen === expected,
    50,
  );
}

describe('an import job over the HTTP JSON driver', () => {
  it('copies every record once, refuses a second run while one runs, cancels and resumes', async () => {
    const connection = await call('POST', '/connections/http-json', { name: 'local-api', settings: { url: `${origin}/v1` } });
    expect(connection.status).toBe(201);
    const connectionId = connection.json.id as number;
    const created = await call('POST', '/api/v1/jobs', { name: 'copy', type: 'http-json', connection_id: connectionId, source: { path: 'all', mapping }, database: 'copied', chunk_rows: 7 });
    expect(created.status).toBe(201);
    const jobId = created.json.id as number;
    expect((await call('POST', `/jobs/${String(jobId)}/run`)).status).toBe(202);
    expect(await executionEnds(jobId)).toMatchObject({ status: 'succeeded', rows: 40, chunks: 6, progress: 1, error: null });
    await rowsIn('copied', 40);
    expect((await call('DELETE', `/connections/http-json/${String(connectionId)}`)).json).toMatchObject({ code: 'ARC_IMPORT_CONNECTION_IN_USE' });

    // A source that does not answer yet: the job runs until the test releases it.
    const slow = await call('POST', '/jobs', { name: 'slow', type: 'http-json', connection_id: connectionId, source: { path: 'slow', mapping }, database: 'slow' });
    const slowId = slow.json.id as number;
    expect((await call('POST', `/jobs/${String(slowId)}/run`)).status).toBe(202);
    const again = await call('POST', `/jobs/${String(slowId)}/run`);
    expect(again.status).toBe(409);
    expect(again.json).toMatchObject({ code: 'ARC_IMPORT_JOB_RUNNING' });
    expect((await call('DELETE', `/jobs/${String(slowId)}`)).status).toBe(409);
    const monitoring = await call('GET', '/monitoring/jobs');
    expect(monitoring.json.running).toMatchObject([{ job_id: slowId, job_name: 'slow', status: 'running' }]);
    const cancelled = await call('POST', `/jobs/${String(slowId)}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.json.execution).toMatchObject({ status: 'cancelled', rows: 0 });
    expect((await call('POST', `/jobs/${String(slowId)}/cancel`)).status).toBe(409);
    held = [];
    // The slow job reads the full API now; the resume continues the cancelled execution.
    expect((await call('PUT', `/jobs/${String(slowId)}`, { name: 'slow', type: 'http-json', connection_id: connectionId, source: { path: 'all', mapping }, database: 'slow' })).status).toBe(200);
    const resumed = await call('POST', `/jobs/${String(slowId)}/run`, { resume: true });
    expect(resumed.json.execution).toMatchObject({ trigger: 'resume' });
    expect(await executionEnds(slowId)).toMatchObject({ status: 'succeeded', rows: 40 });
    await rowsIn('slow', 40);
  });

  it('is interrupted by a server stop and resumed at the next start', async () => {
    const first = await start({});
    target = () => first.url;
    const connection = await call('POST', '/connections/http-json', { name: 'local-api', settings: { url: `${origin}/v1` } });
    const job = await call('POST', '/jobs', { name: 'across-restart', type: 'http-json', connection_id: connection.json.id, source: { path: 'slow', mapping }, database: 'restarted', chunk_rows: 9 });
    const jobId = job.json.id as number;
    expect((await call('POST', `/jobs/${String(jobId)}/run`)).status).toBe(202);
    await pollUntil('the request reached the API', WAIT_MS, () => held.length, (count) => count > 0);
    // A clean stop: the run is interrupted (not failed), every buffer flushed.
    await expectCleanStop(first);
    slowAnswers = true;
    const second = await start({}, first.dataDir);
    started.splice(started.indexOf(first), 1);
    target = () => second.url;
    const ended = await executionEnds(jobId);
    expect(ended).toMatchObject({ status: 'succeeded', trigger: 'resume', rows: 40, chunks: 5 });
    const history = (await call('GET', `/jobs/${String(jobId)}/executions`)).json.executions as Record<string, unknown>[];
    expect(history.map((execution) => execution.status)).toEqual(['succeeded', 'interrupted']);
    await rowsIn('restarted', 40);
    target = () => shared.arc.url;
  });
});
