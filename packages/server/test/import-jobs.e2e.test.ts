// Proves the import jobs' routes answer as README "Jobs" says on a running server, bare
// and under /api/v1: admin only, an empty list and monitoring view, a 400 naming the field for each
// kind of bad job body (the type's driver checks the source; a connection that is not stored is
// named), a 404 for an unknown job on every route. A job that runs (409 while it runs,
// cancel, resume, rows counted back by SQL) is proved by packages/importer/test/job-runner.test.ts
// against a running server, and through these routes by import-jobs-http.e2e.test.ts.
import { describe, expect, it } from 'vitest';
import { useSharedArc } from './support/shared-arc.js';
import { createToken, send } from './support/token-helpers.js';

const shared = useSharedArc();

const goodJob = { name: 'copy-cpu', connection_id: 1, type: 'influx1', source: { measurements: ['cpu'] }, database: 'metrics' };

interface ErrorBody {
  readonly error: string;
  readonly code: string;
  readonly field?: string;
}

async function refused(body: unknown, prefix = ''): Promise<{ status: number; body: ErrorBody }> {
  const answer = await send(shared.arc.url, 'POST', `${prefix}/jobs`, { body });
  return { status: answer.status, body: answer.json() as ErrorBody };
}

describe('import job routes', () => {
  it('list nothing yet, bare and under /api/v1, and show an empty monitoring view', async () => {
    for (const prefix of ['', '/api/v1']) {
      const jobs = await send(shared.arc.url, 'GET', `${prefix}/jobs`);
      expect(jobs.status).toBe(200);
      expect(jobs.json()).toEqual({ jobs: [] });
      const monitoring = await send(shared.arc.url, 'GET', `${prefix}/monitoring/jobs`);
      expect(monitoring.status).toBe(200);
      expect(monitoring.json()).toEqual({ running: [], recent: [], scheduled: [] });
    }
  });

  it('are for admins only', async () => {
    const reader = await createToken(shared.arc.url, { name: 'jobs-reader', permissions: ['read', 'write'] });
    for (const [method, path] of [['GET', '/jobs'], ['POST', '/jobs'], ['GET', '/api/v1/monitoring/jobs'], ['POST', '/api/v1/jobs/1/run']] as const) {
      const answer = await send(shared.arc.url, method, path, { token: reader.token, body: method === 'POST' ? goodJob : undefined });
      expect(answer.status, `${method} ${path}`).toBe(403);
    }
    expect((await send(shared.arc.url, 'GET', '/jobs', { token: null })).status).toBe(401);
  });

  it('refuse a bad job with a 400 naming the field', async () => {
    const cases: [unknown, string, string][] = [
      [{ ...goodJob, name: undefined }, 'name', 'ARC_BAD_REQUEST_BODY'],
      [{ ...goodJob, database: 5 }, 'database', 'ARC_BAD_REQUEST_BODY'],
      [{ ...goodJob, source: 'cpu' }, 'source', 'ARC_BAD_REQUEST_BODY'],
      [{ ...goodJob, extra: true }, 'extra', 'ARC_BAD_REQUEST_BODY'],
      [{ ...goodJob, name: '  ' }, 'name', 'ARC_IMPORT_BAD_JOB'],
      [{ ...goodJob, type: 'mysql' }, 'type', 'ARC_IMPORT_BAD_JOB'],
      [{ ...goodJob, database: 'bad name!' }, 'database', 'ARC_BAD_DATABASE_NAME'],
      [{ ...goodJob, range: { start: 'yesterday' } }, 'range.start', 'ARC_IMPORT_BAD_JOB'],
      [{ ...goodJob, range: { start: '2026-01-02T00:00:00Z', end: '2026-01-01T00:00:00Z' } }, 'range.end', 'ARC_IMPORT_BAD_JOB'],
      [{ ...goodJob, schedule: 'every minute' }, 'schedule', 'ARC_IMPORT_BAD_JOB'],
      [{ ...goodJob, chunk_rows: 0 }, 'chunk_rows', 'ARC_IMPORT_BAD_JOB'],
      // The source checks out with the InfluxDB 1.x driver; no connection 1 is stored.
      [goodJob, 'connection_id', 'ARC_IMPORT_CONNECTION_NOT_FOUND'],
    ];
    for (const [body, field, code] of cases) {
      const answer = await refused(body, '/api/v1');
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body, JSON.stringify(body)).toMatchObject({ code, field });
      expect(answer.body.error).toContain(field === 'extra' ? "'extra'" : field);
    }
    expect((await refused('not json')).status).toBe(400);
    expect((await send(shared.arc.url, 'GET', '/jobs')).json()).toEqual({ jobs: [] });
  });

  it('answer 404 for an unknown job and 400 for an id that is no id, on every route', async () => {
    const routes = [['GET', ''], ['PUT', ''], ['DELETE', ''], ['GET', '/executions'], ['POST', '/run'], ['POST', '/cancel']] as const;
    for (const prefix of ['', '/api/v1']) {
      for (const [method, suffix] of routes) {
        const body = method === 'PUT' ? goodJob : undefined;
        const unknown = await send(shared.arc.url, method, `${prefix}/jobs/4242${suffix}`, { body });
        expect(unknown.status, `${method} ${prefix}/jobs/4242${suffix}`).toBe(404);
        expect(unknown.json()).toMatchObject({ code: 'ARC_IMPORT_JOB_NOT_FOUND', job_id: 4242 });
        const notAnId = await send(shared.arc.url, method, `${prefix}/jobs/abc${suffix}`, { body });
        expect(notAnId.status).toBe(400);
        expect(notAnId.json()).toMatchObject({ field: 'id' });
      }
    }
    const badLimit = await send(shared.arc.url, 'GET', '/jobs/1/executions?limit=0');
    expect(badLimit.status).toBe(400);
  });
});
