// Proves the HTTP JSON routes' stored-connection path over real HTTP (uWS in this process, the real
// auth gate and token store, a local JSON API, and a real connection store with its secrets sealed): discovery by connection id reads with the stored settings and secret,
// an unknown id is 404, another type's connection or a malformed id 400 naming it, and an export
// by connection id resolves the same way.
import { mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import uWS from 'uWebSockets.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenStore, TokenVerifier } from '@arc/auth';
import { ConnectionStore, SecretBox, generateSecretKey } from '@arc/importer';
import { AuthGate } from '../src/auth-gate.js';
import { httpJsonRoutes } from '../src/http-json-routes.js';
import type { ServerContext } from '../src/server-context.js';
import { createLogger } from '../src/log.js';
import { registerManagementRoutes } from '../src/management-route.js';

const SECRET = 'stored-secret';
let api: Server;
let apiUrl = '';
let directory = '';
let store: TokenStore;
let adminToken = '';
let arcUrl = '';
let closeArc: () => void = () => undefined;

let connections: ConnectionStore;

beforeAll(async () => {
  api = createServer((req, res) => {
    const authorized = req.headers.authorization === `Bearer ${SECRET}`;
    res.writeHead(authorized ? 200 : 401, { 'content-type': 'application/json' });
    res.end(JSON.stringify(authorized ? { items: [{ time: 1_700_000_000, site: 'n', load: 0.5 }, { time: 1_700_000_060, site: 'n', load: 0.7 }] } : { message: 'no' }));
  });
  api.listen(0, '127.0.0.1');
  await once(api, 'listening');
  apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}/metrics`;

  directory = mkdtempSync(join(tmpdir(), 'arc-http-json-routes-'));
  store = TokenStore.open(join(directory, 'arc.db'));
  // Connection 1 is http-json with a secret, 2 an InfluxDB one.
  connections = ConnectionStore.open(join(directory, 'connections.db'), new SecretBox(generateSecretKey(), 'a test key'));
  expect(connections.create('http-json', { name: 'api', settings: { url: apiUrl }, secret: SECRET }).id).toBe(1);
  expect(connections.create('influx', { name: 'influx', settings: { url: 'http://influx:8086', database: 'x' }, secret: null }).id).toBe(2);
  adminToken = store.create({ name: 'admin', permissions: ['admin'] }).token;
  const auth = new AuthGate(new TokenVerifier(store, 30_000));
  const context = { auth, log: createLogger('error', 'text'), phase: 'ready', connections } as unknown as ServerContext;
  const app = uWS.App();
  registerManagementRoutes(app, context, httpJsonRoutes(context));
  await new Promise<void>((resolve, reject) => {
    app.listen('127.0.0.1', 0, (socket) => {
      if (socket === false) return reject(new Error('listen failed'));
      arcUrl = `http://127.0.0.1:${String(uWS.us_socket_local_port(socket))}`;
      closeArc = () => uWS.us_listen_socket_close(socket);
      resolve();
    });
  });
});

afterAll(async () => {
  closeArc();
  store.close();
  connections.close();
  rmSync(directory, { recursive: true, force: true });
  api.close();
  await once(api, 'close');
});

async function post(path: string, body: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${arcUrl}${path}`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('HTTP JSON routes with stored connections', () => {
  it('discovers the schema of a stored connection with its secret (an empty body allowed)', async () => {
    const answer = await post('/api/http-json/connections/1/discover-schema', '');
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    const [candidate] = answer.body.candidates as { records: string; suggested_mapping: Record<string, unknown> }[];
    expect(candidate?.suggested_mapping).toEqual({ records: '$.items[*]', time: '$.time', measurement: 'items', tags: { site: '$.site' }, fields: { load: '$.load' } });
  });

  it('refuses an unknown id (404), another type (400) and a malformed id (400)', async () => {
    expect(await post('/api/http-json/connections/9/discover-schema', '{}')).toMatchObject({ status: 404, body: { code: 'ARC_NOT_FOUND', field: 'connection_id' } });
    expect(await post('/api/http-json/connections/2/discover-schema', '{}')).toMatchObject({ status: 400, body: { error: "Connection 2 is of type 'influx1', not 'http-json'" } });
    expect(await post('/api/http-json/connections/x1/discover-schema', '{}')).toMatchObject({ status: 400, body: { field: 'id' } });
  });

  it('resolves an export by connection id the same way', async () => {
    const source = { mapping: { records: '$.items', time: '$.time', measurement: 'm', fields: { load: '$.load' } } };
    expect(await post('/api/http-json/export', JSON.stringify({ connection_id: 2, source, database: 'db' }))).toMatchObject({ status: 400, body: { field: 'connection_id' } });
    expect(await post('/api/http-json/export', JSON.stringify({ connection_id: 9, source, database: 'db' }))).toMatchObject({ status: 404 });
    expect(await post('/api/http-json/export', JSON.stringify({ source, database: 'db' }))).toMatchObject({ status: 400, body: { field: 'connection_id' } });
  });
});
