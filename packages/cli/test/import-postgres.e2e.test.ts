// Proves `arc import postgres` end to end: a table of the test PostgreSQL (scripts/postgres.sh,
// ARC_TEST_PG_URL / ARC_TEST_PG_PASSWORD as `make test` exports them) is seeded with psql, a real
// Arc runs the job the command creates, and the rows read back by SQL right after the command have
// the count, sums and tags PostgreSQL answers. Skipped without that PostgreSQL, and, until the
// server has the import job routes, skipped by the test itself with the reason (GET /api/v1/jobs
// answers 404 in a build without them).
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArcClient } from '../../server/test/support/arc-client.js';
import { TEST_TOKEN, startArc, type ArcProcess } from '../../server/test/support/arc-process.js';
import { importCommand } from '../src/import-command.js';
import type { ExecutionJson, ImportJobIo } from '../src/import-job-command.js';

const PG_URL = process.env.ARC_TEST_PG_URL ?? '';
const PG_PASSWORD = process.env.ARC_TEST_PG_PASSWORD ?? '';
/** A schema of this run's own: tests of other files (and other runs) use the same database. */
const SCHEMA = `arc_cli_import_${String(process.pid)}`;
const ROWS = 5000;

/** Runs SQL with psql against the test PostgreSQL; the unaligned, tuples-only output. */
function psql(sql: string): string {
  const result = spawnSync('psql', [PG_URL, '-v', 'ON_ERROR_STOP=1', '-tA', '-F', ',', '-c', sql], { encoding: 'utf8', env: { ...process.env, PGPASSWORD: PG_PASSWORD } });
  if (result.status !== 0) throw new Error(`psql failed (${String(result.status)}): ${result.stderr}`);
  return result.stdout.trim();
}

describe.skipIf(PG_URL === '')('arc import postgres against the test PostgreSQL and a real Arc', () => {
  let arc: ArcProcess;
  let skipReason: string | null = null;

  beforeAll(async () => {
    psql(
      `DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE; CREATE SCHEMA ${SCHEMA};
       CREATE TABLE ${SCHEMA}.orders (created_at timestamptz NOT NULL, region text, store text, amount double precision, qty bigint);
       INSERT INTO ${SCHEMA}.orders SELECT timestamptz '2025-06-01 00:00:00+00' + g * interval '1 second',
         CASE WHEN g % 2 = 0 THEN 'eu' ELSE 'us' END, 's' || (g % 5), g * 0.5, g FROM generate_series(1, ${String(ROWS)}) g;`,
    );
    arc = await startArc();
    const probe = await fetch(`${arc.url}/api/v1/jobs`, { headers: { authorization: `Bearer ${TEST_TOKEN}` } });
    if (probe.status === 404) skipReason = 'the server has no import job routes yet (GET /api/v1/jobs answered 404): this test turns on with them';
  }, 120_000);
  afterAll(async () => {
    psql(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    await arc.stop();
    await arc.cleanup();
  });

  it('copies a table into one measurement: count, sums and tags as PostgreSQL has them, readable when the command ends', async (context) => {
    if (skipReason !== null) context.skip(skipReason);
    let stdout = '';
    let stderr = '';
    const io: ImportJobIo = { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text) }, stderrIsTTY: false, stdoutIsTTY: false, env: { ARC_TOKEN: TEST_TOKEN, PGPASSWORD: PG_PASSWORD } };
    const args = ['postgres', '--from', PG_URL, '--table', `${SCHEMA}.orders`, '--time-column', 'created_at', '--tag-columns', 'region,store', '--database', 'sales', '--chunk-rows', '1000', '--url', arc.url];
    const code = await importCommand(args, io);
    expect(code, stderr).toBe(0);
    expect((JSON.parse(stdout) as { execution: ExecutionJson }).execution).toMatchObject({ status: 'succeeded', rows: ROWS, rows_rejected: 0 });
    const [count, amount, qty, stores] = psql(`SELECT count(*), sum(amount), sum(qty), count(DISTINCT store) FROM ${SCHEMA}.orders`).split(',').map(Number);
    // No flush here: the command flushed after the run, so its rows are readable now.
    expect(await new ArcClient(arc.url).rows('SELECT count(*), sum(amount), sum(qty), count(DISTINCT store), min(region), max(region) FROM orders', 'sales')).toEqual([[count, amount, qty, stores, 'eu', 'us']]);
  });
});
