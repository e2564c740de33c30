// Proves Superset's Arc dialects (arc+json and arc+arrow) work against the built server by sending
// what their DBAPI cursors send (`X-API-Key`, JSON `{"sql", "limit"[, "format": "json"]}` to
// /api/v1/query or /api/v1/query/arrow, no database header) for each SQLAlchemy call they make:
// the `SELECT 1` ping, get_schema_names (`SHOW DATABASES`), get_table_names (`SHOW TABLES FROM
// <schema>`, read as row[0] database and row[1] table), has_table and get_columns (`SELECT ... FROM
// <table> LIMIT 1`, the schema dropped when it is `default`), and a chart query in the SQL
// SQLAlchemy's default compiler writes (the reserved word `default` quoted as a schema).
import { tableFromIPC } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { TEST_TOKEN } from './support/arc-process.js';
import { flushUntil } from './support/flush-until.js';
import { useSharedArc } from './support/shared-arc.js';

const shared = useSharedArc({ ARC_WRITER_FLUSH_AGE_MS: '600000' });

const T0 = 1_700_000_000; // 2023-11-14T22:13:20Z

let seeded = false;
async function seed(): Promise<void> {
  if (seeded) return;
  const auth = { Authorization: `Bearer ${TEST_TOKEN}` };
  const inDefault = [`cpu,host=a usage=10 ${String(T0)}`, `cpu,host=b usage=30 ${String(T0 + 60)}`, `cpu,host=a usage=20 ${String(T0 + 120)}`].join('\n');
  expect((await shared.client.post('/write?db=default&precision=s', inDefault, auth)).status).toBe(204);
  expect((await shared.client.post('/write?db=sales&precision=s', `orders,region=eu amount=12.5,paid=true ${String(T0)}`, auth)).status).toBe(204);
  await flushUntil(shared.client, 'default', 'cpu', 3);
  await flushUntil(shared.client, 'sales', 'orders', 1);
  seeded = true;
}

/** A Superset cursor's request: the dialects' ArcCursor.execute, trailing `;` stripped, LIMIT copied. */
function payload(sql: string, format: 'json' | 'arrow'): Record<string, unknown> {
  const limit = /LIMIT\s+(\d+)/.exec(sql.toUpperCase());
  return { sql, limit: limit === null ? 10000 : Number(limit[1]), ...(format === 'json' ? { format: 'json' } : {}) };
}

/** What each cursor reads: arc+json `columns` and `data` (after checking `success`); arc+arrow the IPC stream's columns and rows. */
async function cursor(format: 'json' | 'arrow', sql: string): Promise<{ columns: string[]; rows: unknown[][] }> {
  const response = await fetch(`${shared.arc.url}/api/v1/query${format === 'arrow' ? '/arrow' : ''}`, {
    method: 'POST',
    headers: { 'X-API-Key': TEST_TOKEN, 'Content-Type': 'application/json', 'User-Agent': 'python-requests/2.32.3' },
    body: JSON.stringify(payload(sql, format)),
  });
  const bytes = new Uint8Array(await response.arrayBuffer());
  expect(response.status, new TextDecoder().decode(bytes.slice(0, 400))).toBe(200);
  if (format === 'json') {
    const body = JSON.parse(new TextDecoder().decode(bytes)) as { success: boolean; columns: string[]; data: unknown[][] };
    expect(body.success).toBe(true);
    return { columns: body.columns, rows: body.data };
  }
  const table = tableFromIPC(bytes);
  const columns = table.schema.fields.map((field) => field.name);
  const rows = table.toArray().map((row: Record<string, unknown>) => columns.map((name) => (typeof row[name] === 'bigint' ? Number(row[name]) : row[name])));
  return { columns, rows };
}

/** A Superset chart (table of AVG by host) over the dataset schema "default", table "cpu". */
const CHART_SQL =
  'SELECT host AS host, AVG(usage) AS "AVG(usage)" \nFROM "default".cpu \nWHERE time >= \'2023-11-14T00:00:00\' AND time < \'2023-11-15T00:00:00\' GROUP BY host ORDER BY "AVG(usage)" DESC \n LIMIT 10000';

describe.each(['json', 'arrow'] as const)('Superset arc+%s dialect', (format) => {
  it('connects (SELECT 1 ping) and lists schemas with SHOW DATABASES (row[0])', async () => {
    await seed();
    expect((await cursor(format, 'SELECT 1')).rows).toEqual([[1]]);
    const databases = (await cursor(format, 'SHOW DATABASES')).rows.map((row) => row[0]);
    expect(databases).toEqual(expect.arrayContaining(['default', 'sales']));
  });

  it('lists tables with SHOW TABLES FROM <schema>, database in row[0] and table in row[1]', async () => {
    await seed();
    for (const [schema, tables] of [['default', ['cpu']], ['sales', ['orders']]] as const) {
      const { rows } = await cursor(format, `SHOW TABLES FROM ${schema}`);
      expect(rows.filter((row) => row[0] === schema).map((row) => row[1])).toEqual(tables);
    }
  });

  it('answers has_table and get_columns: SELECT 1 / SELECT * ... LIMIT 1, bare for default, schema-qualified otherwise', async () => {
    await seed();
    expect((await cursor(format, 'SELECT 1 FROM cpu LIMIT 1')).rows).toEqual([[1]]);
    expect((await cursor(format, 'SELECT 1 FROM sales.orders LIMIT 1')).rows).toEqual([[1]]);
    expect((await cursor(format, 'SELECT * FROM cpu LIMIT 1')).columns).toEqual(['time', 'host', 'usage']);
    expect((await cursor(format, 'SELECT * FROM sales.orders LIMIT 1')).columns).toEqual(['time', 'region', 'amount', 'paid']);
  });

  it('answers a chart query written by SQLAlchemy\'s default compiler ("default" quoted as a schema)', async () => {
    await seed();
    const { columns, rows } = await cursor(format, CHART_SQL);
    expect(columns).toEqual(['host', 'AVG(usage)']);
    expect(rows).toEqual([
      ['b', 30],
      ['a', 15],
    ]);
  });
});

describe('Superset dialects and errors', () => {
  it('answers a failed query with a non-200 status and a JSON error the cursor raises', async () => {
    const response = await fetch(`${shared.arc.url}/api/v1/query`, {
      method: 'POST',
      headers: { 'X-API-Key': TEST_TOKEN, 'Content-Type': 'application/json' },
      body: JSON.stringify(payload('SELECT * FROM no_such_table LIMIT 1', 'json')),
    });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(await response.json()).toMatchObject({ error: expect.any(String) as unknown });
  });

  it('answers a missing or wrong API key with 401 (the cursor raises "Authentication failed")', async () => {
    const response = await fetch(`${shared.arc.url}/api/v1/query/arrow`, {
      method: 'POST',
      headers: { 'X-API-Key': 'wrong-key', 'Content-Type': 'application/json' },
      body: JSON.stringify(payload('SELECT 1', 'arrow')),
    });
    expect(response.status).toBe(401);
  });
});
