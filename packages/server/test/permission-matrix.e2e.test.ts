// Proves that every kind of caller gets exactly the status and body the README documents on
// every kind of endpoint, by walking {no token, bad, revoked, expired, read-only, write-only,
// db-scoped, admin} x {each write endpoint, SQL and InfluxQL queries, a cross-database join,
// SHOW DATABASES, admin endpoints, the databases API, /measurements, /auth/verify} against the
// real server, then reading back which writes landed.
import { beforeAll, describe, expect, it } from 'vitest';
import { msgpack, type HttpAnswer } from './support/arc-client.js';
import { TEST_TOKEN } from './support/arc-process.js';
import { useSharedArc } from './support/shared-arc.js';
import { createExpiredToken, createToken, send } from './support/token-helpers.js';

const shared = useSharedArc({ ARC_WRITER_FLUSH_AGE_MS: '600000' });

const IDENTITIES = ['none', 'bad', 'revoked', 'expired', 'read', 'write', 'scoped', 'admin'] as const;
type Identity = (typeof IDENTITIES)[number];
type ValidIdentity = 'read' | 'write' | 'scoped' | 'admin';

/** Token text per identity, filled in beforeAll; `none` sends no token at all. */
const tokens: Record<Identity, string | null> = { none: null, bad: 'arc-not-a-token-0123456789', revoked: '', expired: '', read: '', write: '', scoped: '', admin: TEST_TOKEN };

interface Expected {
  readonly status: number;
  /** The exact JSON body; absent for 204. */
  readonly body?: unknown;
  /** For success bodies that hold ids or times: what must hold instead of equality. */
  readonly check?: (answer: HttpAnswer) => void;
}

const AUTH_REQUIRED: Expected = { status: 401, body: { error: 'Authentication required' } };
const INVALID_TOKEN: Expected = { status: 401, body: { error: 'Invalid or expired token' } };
const NO_CONTENT: Expected = { status: 204 };
const needs = (permission: string): Expected => ({ status: 403, body: { error: `Permission denied: ${permission} required` } });
const noAccessTo = (database: string): Expected => ({ status: 403, body: { error: `Permission denied: no access to database '${database}'` } });

/** The four refusals every protected endpoint gives before looking at the request, plus the valid tokens' answers. */
function expectations(valid: Record<ValidIdentity, Expected>): Record<Identity, Expected> {
  return { none: AUTH_REQUIRED, bad: INVALID_TOKEN, revoked: INVALID_TOKEN, expired: INVALID_TOKEN, ...valid };
}

const T0_MS = Date.UTC(2025, 9, 16, 16, 0, 0);
let sequence = 0;
/** A distinct name per call, so that admin cells that create things never collide. */
const unique = (prefix: string): string => `${prefix}${++sequence}`;

interface Cell {
  readonly endpoint: string;
  readonly call: (token: string | null) => Promise<HttpAnswer>;
  readonly expected: Record<Identity, Expected>;
}

const url = (): string => shared.arc.url;
const bearer = (token: string | null): Record<string, string> => (token === null ? {} : { Authorization: `Bearer ${token}` });

const WRITE_CELLS: Cell[] = [
  {
    endpoint: 'POST /write/v2/msgpack (tenant_a)',
    call: (token) => shared.client.write(msgpack({ m: 'matrix', t: T0_MS + ++sequence, h: 'mp', fields: { v: 1 } }), { token, database: 'tenant_a' }),
    expected: expectations({ read: needs('write'), write: NO_CONTENT, scoped: NO_CONTENT, admin: NO_CONTENT }),
  },
  {
    endpoint: 'POST /write?db=tenant_a (line protocol 1.x)',
    call: (token) => shared.client.post('/write?db=tenant_a&precision=ms', `matrix,host=lp1 v=1 ${T0_MS + ++sequence}`, bearer(token)),
    expected: expectations({ read: needs('write'), write: NO_CONTENT, scoped: NO_CONTENT, admin: NO_CONTENT }),
  },
  {
    endpoint: 'POST /api/v2/write?bucket=tenant_a (line protocol 2.x)',
    call: (token) => shared.client.post('/api/v2/write?org=o&bucket=tenant_a&precision=ms', `matrix,host=lp2 v=1 ${T0_MS + ++sequence}`, bearer(token)),
    expected: expectations({ read: needs('write'), write: NO_CONTENT, scoped: NO_CONTENT, admin: NO_CONTENT }),
  },
  {
    endpoint: 'POST /write/json (tenant_a)',
    call: (token) =>
      shared.client.post('/write/json', JSON.stringify({ measurement: 'matrix', time: T0_MS + ++sequence, tags: { host: 'json' }, fields: { v: 1 } }), {
        ...bearer(token),
        'x-arc-database': 'tenant_a',
      }),
    expected: expectations({ read: needs('write'), write: NO_CONTENT, scoped: NO_CONTENT, admin: NO_CONTENT }),
  },
  {
    endpoint: 'POST /write/v2/msgpack (tenant_b, foreign to the scoped token)',
    call: (token) => shared.client.write(msgpack({ m: 'matrix', t: T0_MS + ++sequence, h: 'foreign', fields: { v: 1 } }), { token, database: 'tenant_b' }),
    expected: expectations({ read: needs('write'), write: NO_CONTENT, scoped: noAccessTo('tenant_b'), admin: NO_CONTENT }),
  },
];

const rowsOf = (data: unknown[][]): Expected => ({ status: 200, check: (answer) => expect((answer.json() as { data: unknown[][] }).data).toEqual(data) });

const QUERY_CELLS: Cell[] = [
  {
    endpoint: 'POST /query (tenant_a)',
    call: (token) => shared.client.query('SELECT count(*) FROM seed', 'tenant_a', token),
    expected: expectations({ read: rowsOf([[3]]), write: needs('read'), scoped: rowsOf([[3]]), admin: rowsOf([[3]]) }),
  },
];

const tenantsShown = (names: string[]): Expected => ({
  status: 200,
  check: (answer) => expect((answer.json() as { data: string[][] }).data.flat().filter((name) => name.startsWith('tenant_'))).toEqual(names),
});

const influxSeries = (): Expected => ({
  status: 200,
  check: (answer) => expect(answer.json()).toMatchObject({ results: [{ statement_id: 0, series: [{ name: 'seed' }] }] }),
});

const INFLUXQL_CELLS: Cell[] = [
  {
    endpoint: 'GET /query?db=tenant_b&q=InfluxQL (foreign to the scoped token)',
    call: (token) => send(url(), 'GET', `/query?db=tenant_b&q=${encodeURIComponent('SELECT v FROM seed')}`, { token }),
    expected: expectations({ read: influxSeries(), write: needs('read'), scoped: noAccessTo('tenant_b'), admin: influxSeries() }),
  },
];

const JOIN_CELLS: Cell[] = [
  {
    endpoint: 'POST /query SHOW DATABASES (a scoped token does not learn of tenant_b)',
    call: (token) => shared.client.query('SHOW DATABASES', 'tenant_a', token),
    expected: expectations({ read: tenantsShown(['tenant_a', 'tenant_b']), write: needs('read'), scoped: tenantsShown(['tenant_a']), admin: tenantsShown(['tenant_a', 'tenant_b']) }),
  },
  {
    endpoint: 'POST /query joining tenant_a.seed with tenant_b.seed',
    call: (token) => shared.client.query('SELECT count(*) FROM tenant_a.seed a JOIN tenant_b.seed b ON a.time = b.time', 'tenant_a', token),
    expected: expectations({ read: rowsOf([[2]]), write: needs('read'), scoped: noAccessTo('tenant_b'), admin: rowsOf([[2]]) }),
  },
];

const ADMIN_ONLY = (admin: Expected): Record<Identity, Expected> =>
  expectations({ read: needs('admin'), write: needs('admin'), scoped: needs('admin'), admin });

const ADMIN_CELLS: Cell[] = [
  {
    endpoint: 'POST /auth/tokens',
    call: (token) => send(url(), 'POST', '/auth/tokens', { token, body: { name: unique('made-'), permissions: ['read'] } }),
    expected: ADMIN_ONLY({ status: 201, check: (answer) => expect(answer.json()).toMatchObject({ permissions: ['read'], databases: null, expires_at: null }) }),
  },
  {
    endpoint: 'GET /api/v1/auth/tokens',
    call: (token) => send(url(), 'GET', '/api/v1/auth/tokens', { token }),
    expected: ADMIN_ONLY({ status: 200, check: (answer) => expect(answer.text).not.toContain(tokens.read ?? '-') }),
  },
  {
    endpoint: 'GET /logs',
    call: (token) => send(url(), 'GET', '/logs?level=info', { token }),
    expected: ADMIN_ONLY({ status: 200, check: (answer) => expect((answer.json() as { lines: unknown[] }).lines.length).toBeGreaterThan(0) }),
  },
  {
    endpoint: 'POST /write/flush',
    call: (token) => send(url(), 'POST', '/write/flush', { token }),
    expected: ADMIN_ONLY({ status: 200, check: (answer) => expect(answer.json()).toMatchObject({ success: true, flushed: true }) }),
  },
  {
    endpoint: 'POST /cache/clear',
    call: (token) => send(url(), 'POST', '/cache/clear', { token }),
    expected: ADMIN_ONLY({ status: 200, check: (answer) => expect(answer.json()).toMatchObject({ success: true }) }),
  },
  {
    endpoint: 'POST /api/wal/cleanup',
    call: (token) => send(url(), 'POST', '/api/wal/cleanup', { token }),
    expected: ADMIN_ONLY({ status: 200, check: (answer) => expect(answer.json()).toMatchObject({ success: true }) }),
  },
  {
    endpoint: 'POST /api/v1/databases',
    call: (token) => send(url(), 'POST', '/api/v1/databases', { token, body: { name: unique('made_db_') } }),
    expected: ADMIN_ONLY({ status: 201, check: (answer) => expect(answer.json()).toMatchObject({ success: true, database: { measurement_count: 0 } }) }),
  },
  {
    endpoint: 'DELETE /api/v1/databases/{name}?confirm=true',
    call: async (token) => {
      const name = unique('doomed_');
      expect((await send(url(), 'POST', '/api/v1/databases', { body: { name } })).status).toBe(201);
      return send(url(), 'DELETE', `/api/v1/databases/${name}?confirm=true`, { token });
    },
    expected: ADMIN_ONLY({ status: 200, check: (answer) => expect(answer.json()).toMatchObject({ success: true, deleted: true, files_deleted: 0 }) }),
  },
];

const databaseNames = (names: string[]): Expected => ({
  status: 200,
  check: (answer) => {
    const listed = (answer.json() as { databases: { name: string }[] }).databases.map((database) => database.name);
    expect(listed.filter((name) => name.startsWith('tenant_'))).toEqual(names);
  },
});
const SEED_DATABASE = (name: string): Expected => ({
  status: 200,
  check: (answer) => expect(answer.json()).toMatchObject({ success: true, database: { name, measurement_count: expect.any(Number) as number } }),
});
const NOT_FOUND_DB: Expected = { status: 404, body: { error: "Database 'no_such_db' not found", code: 'ARC_DATABASE_NOT_FOUND', database: 'no_such_db' } };

const DATABASE_CELLS: Cell[] = [
  {
    endpoint: 'GET /api/v1/databases',
    call: (token) => send(url(), 'GET', '/api/v1/databases', { token }),
    expected: expectations({ read: databaseNames(['tenant_a', 'tenant_b']), write: needs('read'), scoped: databaseNames(['tenant_a']), admin: databaseNames(['tenant_a', 'tenant_b']) }),
  },
  {
    endpoint: 'GET /api/v1/databases/tenant_a',
    call: (token) => send(url(), 'GET', '/api/v1/databases/tenant_a', { token }),
    expected: expectations({ read: SEED_DATABASE('tenant_a'), write: needs('read'), scoped: SEED_DATABASE('tenant_a'), admin: SEED_DATABASE('tenant_a') }),
  },
  {
    endpoint: 'GET /api/v1/databases/tenant_b (existing, foreign to the scoped token)',
    call: (token) => send(url(), 'GET', '/api/v1/databases/tenant_b', { token }),
    expected: expectations({ read: SEED_DATABASE('tenant_b'), write: needs('read'), scoped: noAccessTo('tenant_b'), admin: SEED_DATABASE('tenant_b') }),
  },
  {
    endpoint: 'GET /api/v1/databases/no_such_db (missing: the scoped token gets the same 403 as for an existing one)',
    call: (token) => send(url(), 'GET', '/api/v1/databases/no_such_db', { token }),
    expected: expectations({ read: NOT_FOUND_DB, write: needs('read'), scoped: noAccessTo('no_such_db'), admin: NOT_FOUND_DB }),
  },
  {
    endpoint: 'GET /api/v1/databases/tenant_b/measurements',
    call: (token) => send(url(), 'GET', '/api/v1/databases/tenant_b/measurements', { token }),
    expected: expectations({
      read: {
        status: 200,
        check: (answer) =>
          expect(answer.json()).toMatchObject({ database: 'tenant_b', measurements: expect.arrayContaining([{ name: 'seed', file_count: 1, total_size_bytes: expect.any(Number) as number, total_size_mb: expect.any(Number) as number }]) as unknown }),
      },
      write: needs('read'),
      scoped: noAccessTo('tenant_b'),
      admin: { status: 200, check: (answer) => expect(answer.json()).toMatchObject({ database: 'tenant_b' }) },
    }),
  },
];

const measurementsListed: Expected = {
  status: 200,
  check: (answer) => expect(answer.json()).toMatchObject({ success: true, names: expect.arrayContaining(['seed']) as unknown }),
};

const MEASUREMENT_CELLS: Cell[] = [
  {
    endpoint: 'GET /measurements?database=tenant_b (existing, foreign to the scoped token)',
    call: (token) => send(url(), 'GET', '/measurements?database=tenant_b', { token }),
    expected: expectations({ read: measurementsListed, write: needs('read'), scoped: noAccessTo('tenant_b'), admin: measurementsListed }),
  },
  {
    endpoint: 'GET /measurements?database=no_such_db (missing: the same 403 for the scoped token)',
    call: (token) => send(url(), 'GET', '/measurements?database=no_such_db', { token }),
    expected: expectations({
      read: { status: 200, body: { success: true, database: 'no_such_db', measurements: [], names: [], count: 0 } },
      write: needs('read'),
      scoped: noAccessTo('no_such_db'),
      admin: { status: 200, body: { success: true, database: 'no_such_db', measurements: [], names: [], count: 0 } },
    }),
  },
];

const verified = (name: string): Expected => ({ status: 200, check: (answer) => expect(answer.json()).toMatchObject({ valid: true, name }) });
const VERIFY_CELLS: Cell[] = [
  {
    endpoint: 'GET /auth/verify',
    call: (token) => send(url(), 'GET', '/auth/verify', { token }),
    expected: expectations({ read: verified('matrix-read'), write: verified('matrix-write'), scoped: verified('matrix-scoped'), admin: verified('bootstrap') }),
  },
];

interface MatrixRow {
  readonly endpoint: string;
  readonly identity: Identity;
  readonly cell: Cell;
  readonly status: number;
}

function rows(cells: readonly Cell[]): MatrixRow[] {
  return cells
    .flatMap((cell) => IDENTITIES.map((identity) => ({ endpoint: cell.endpoint, identity, cell, status: cell.expected[identity].status })));
}

async function assertCell(cell: Cell, identity: Identity): Promise<void> {
  const answer = await cell.call(tokens[identity]);
  const expected = cell.expected[identity];
  expect(answer.status, answer.text).toBe(expected.status);
  if (expected.status === 204) expect(answer.text).toBe('');
  if (expected.body !== undefined) expect(answer.json()).toEqual(expected.body);
  expected.check?.(answer);
}

beforeAll(async () => {
  const base = shared.arc.url;
  // Seed: tenant_a.seed has 3 rows, tenant_b.seed 2, sharing 2 timestamps (the join finds 2).
  const seed = (count: number) => msgpack({ m: 'seed', columns: { time: Array.from({ length: count }, (_, index) => T0_MS + index), host: Array.from({ length: count }, () => 's'), v: Array.from({ length: count }, (_, index) => index) } });
  expect((await shared.client.write(seed(3), { database: 'tenant_a' })).status).toBe(204);
  expect((await shared.client.write(seed(2), { database: 'tenant_b' })).status).toBe(204);
  expect((await shared.client.flush()).status).toBe(200);
  tokens.read = (await createToken(base, { name: 'matrix-read', permissions: ['read'] })).token;
  tokens.write = (await createToken(base, { name: 'matrix-write', permissions: ['write'] })).token;
  tokens.scoped = (await createToken(base, { name: 'matrix-scoped', permissions: ['read', 'write'], databases: ['tenant_a'] })).token;
  // The revoked token works (and sits in the verifier's cache) until the revoke: then at once it does not.
  const revoked = await createToken(base, { name: 'matrix-revoked', permissions: ['admin'] });
  expect((await send(base, 'GET', '/auth/verify', { token: revoked.token })).status).toBe(200);
  expect((await send(base, 'POST', `/auth/tokens/${revoked.id}/revoke`)).status).toBe(200);
  tokens.revoked = revoked.token;
  tokens.expired = createExpiredToken(shared.arc.dataDir, 'matrix-expired', ['admin']);
});

describe('permission matrix', () => {
  const GROUPS: readonly (readonly [string, readonly Cell[]])[] = [
    ['write endpoints', WRITE_CELLS],
    ['query', QUERY_CELLS],
    ['InfluxQL query', INFLUXQL_CELLS],
    ['query touching a foreign database via a join, and SHOW DATABASES', JOIN_CELLS],
    ['admin endpoints', ADMIN_CELLS],
    ['databases API', DATABASE_CELLS],
    ['GET /measurements', MEASUREMENT_CELLS],
    ['token verification', VERIFY_CELLS],
  ];
  for (const [title, cells] of GROUPS) {
    describe(title, () => {
      it.each(rows(cells))('$endpoint, $identity token: $status', async ({ cell, identity }) => assertCell(cell, identity));
    });
  }

  it('wrote exactly the rows of the accepted writes, none of the refused ones', async () => {
    expect((await shared.client.flush()).status).toBe(200);
    // tenant_a: 4 endpoints x {write, scoped, admin}; tenant_b: the foreign msgpack cell x {write, admin}.
    expect(await shared.client.rows('SELECT count(*) FROM matrix', 'tenant_a')).toEqual([[12]]);
    expect(await shared.client.rows('SELECT count(*) FROM matrix', 'tenant_b')).toEqual([[2]]);
  });
});
