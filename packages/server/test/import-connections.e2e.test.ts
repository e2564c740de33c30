// Proves the import connection routes on the built server: CRUD per type under both prefixes and the
// HTTP JSON aliases, 400s naming the field, 404, 409 for a taken name, the storage backend read
// only, admin only; the secret never in an answer or the log, sealed on disk with a key generated
// into the data directory (0600), kept across a restart, and a start with another key refused
// with the error naming import.secret_key.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { importSecretKeyHex } from '@arc/config';
import { CONNECTION_FILE_NAME, ConnectionStore, SecretBox, hasDriver } from '@arc/importer';
import { useStartedArcs } from './support/started-arcs.js';
import { createToken, send } from './support/token-helpers.js';

const { start } = useStartedArcs();

const SECRET = 'influx-password-never-shown-5f3a9c';
const PG_SECRET = 'pg-password-never-shown-77d1e0';

type Json = Record<string, unknown>;

function expectNoSecret(text: string): void {
  expect(text).not.toContain(SECRET);
  expect(text).not.toContain(PG_SECRET);
}

describe('import connections', () => {
  it('CRUD, errors, access, storage, aliases; secrets sealed and kept across a restart; another key refused', async () => {
    const arc = await start({});
    const url = arc.url;
    const answers: string[] = [];
    const call = async (method: string, route: string, body?: unknown, token?: string | null): Promise<{ status: number; json: Json; text: string }> => {
      const answer = await send(url, method, route, { ...(body === undefined ? {} : { body }), ...(token === undefined ? {} : { token }) });
      answers.push(answer.text);
      return { status: answer.status, json: (answer.text === '' ? {} : answer.json()) as Json, text: answer.text };
    };

    // Create: the first of a type is active; the secret is only `has_secret`.
    const influx = await call('POST', '/connections/influx', { name: 'old', settings: { url: 'http://influx:8086', database: 'src', username: 'reader' }, secret: SECRET });
    expect(influx.status, influx.text).toBe(201);
    expect(influx.json).toMatchObject({ type: 'influx', source_type: 'influx1', name: 'old', settings: { version: 1, url: 'http://influx:8086', database: 'src', username: 'reader' }, has_secret: true, active: true });
    const id = influx.json['id'] as number;
    const v2 = await call('POST', '/api/v1/connections/influx', { name: 'new', settings: { version: 2, url: 'https://cloud:8086', org: 'o', bucket: 'b' } });
    expect(v2.status, v2.text).toBe(201);
    expect(v2.json).toMatchObject({ source_type: 'influx2', has_secret: false, active: false });
    const pg = await call('POST', '/connections/postgres', { name: 'warehouse', settings: { url: 'postgres://reader@127.0.0.1:1/metrics' }, secret: PG_SECRET });
    expect(pg.status, pg.text).toBe(201);

    // Read, list (both prefixes), change, activate.
    expect((await call('GET', `/connections/influx/${String(id)}`)).json['name']).toBe('old');
    const listed = await call('GET', '/api/v1/connections/influx');
    expect((listed.json['connections'] as Json[]).map((connection) => connection['name'])).toEqual(['old', 'new']);
    const renamed = await call('PUT', `/connections/influx/${String(id)}`, { name: 'older' });
    expect(renamed.status, renamed.text).toBe(200);
    expect(renamed.json).toMatchObject({ name: 'older', has_secret: true, settings: { database: 'src' } });
    const activated = await call('POST', `/connections/influx/${String(v2.json['id'])}/activate`);
    expect(activated.json['active']).toBe(true);
    expect((await call('GET', `/connections/influx/${String(id)}`)).json['active']).toBe(false);

    // 400 naming the field, 404, 409.
    const cases: readonly [string, string, unknown, number, string, string][] = [
      ['POST', '/connections/influx', { settings: { url: 'http://i' } }, 400, 'ARC_BAD_REQUEST_BODY', 'name'],
      ['POST', '/connections/influx', { name: 'x', settings: { url: 'ftp://i' } }, 400, 'ARC_IMPORT_BAD_SETTINGS', 'settings.url'],
      ['POST', '/connections/influx', { name: 'x', settings: { url: 'http://i', version: 3 } }, 400, 'ARC_IMPORT_BAD_SETTINGS', 'settings.version'],
      ['POST', '/connections/postgres', { name: 'x', settings: { url: `postgres://u:${PG_SECRET}@db/m` } }, 400, 'ARC_IMPORT_BAD_SETTINGS', 'settings.url'],
      ['POST', '/connections/influx', { name: '', settings: { url: 'http://i' } }, 400, 'ARC_IMPORT_BAD_CONNECTION', 'name'],
      ['POST', '/connections/influx', { name: 'x', settings: { url: 'http://i' }, secret: 5 }, 400, 'ARC_BAD_REQUEST_BODY', 'secret'],
      ['POST', '/connections/influx', { name: 'x', settings: { url: 'http://i' }, password: 'p' }, 400, 'ARC_BAD_REQUEST_BODY', 'password'],
      ['POST', '/connections/mysql', { name: 'x', settings: {} }, 400, 'ARC_IMPORT_BAD_CONNECTION_TYPE', 'type'],
      ['PUT', '/connections/influx/abc', { name: 'x' }, 400, 'ARC_IMPORT_BAD_CONNECTION_ID', 'id'],
      ['PUT', `/connections/influx/${String(id)}`, {}, 400, 'ARC_IMPORT_BAD_CONNECTION', 'name'],
      ['POST', '/connections/influx', { name: 'new', settings: { url: 'http://i' } }, 409, 'ARC_IMPORT_CONNECTION_NAME_TAKEN', 'name'],
    ];
    for (const [method, route, body, status, code, field] of cases) {
      const answer = await call(method, route, body);
      expect(answer.status, `${method} ${route} ${JSON.stringify(body)}: ${answer.text}`).toBe(status);
      expect(answer.json).toMatchObject({ code, field });
      expect(answer.json['error']).toEqual(expect.stringContaining(field === 'type' ? 'mysql' : ''));
    }
    expect((await call('GET', '/connections/influx/999')).json).toMatchObject({ code: 'ARC_IMPORT_CONNECTION_NOT_FOUND' });
    expect((await call('GET', '/connections/influx/999')).status).toBe(404);
    // An id of another type is not found under this one.
    expect((await call('DELETE', `/connections/influx/${String(pg.json['id'] as number)}`)).status).toBe(404);

    // A test needs the type's driver; without one in the build, a 400 saying so (bad settings first).
    // (Port 1 refuses at once: with the driver, the answer is ok: false naming why.)
    const test = await call('POST', '/connections/postgres/test', { id: pg.json['id'] });
    if (hasDriver('postgres')) {
      expect(test.status, test.text).toBe(200);
      expect(test.json).toMatchObject({ ok: false, version: null });
    } else {
      expect(test.status, test.text).toBe(400);
      expect(test.json['error']).toContain("'postgres' has no driver");
    }
    expect((await call('POST', '/connections/postgres/test', { id: 1, settings: { url: 'postgres://db' } })).json).toMatchObject({ code: 'ARC_IMPORT_BAD_CONNECTION' });
    expect((await call('POST', '/connections/postgres/test', { settings: { url: `postgres://u:${PG_SECRET}@db` } })).json).toMatchObject({ field: 'settings.url' });
    expect((await call('POST', '/connections/postgres/test', { id: 1, secret: 'other' })).json).toMatchObject({ code: 'ARC_IMPORT_BAD_CONNECTION', field: 'secret' });

    // HTTP JSON aliases over the same store.
    const api = await call('POST', '/api/http-json/connections', { name: 'api', settings: { url: 'https://api.example.com/v1', headers: { Accept: 'application/json' } }, secret: 'bearer-xyz-never-shown' });
    expect(api.status, api.text).toBe(201);
    const apiId = api.json['id'] as number;
    expect(api.json).toMatchObject({ type: 'http-json', active: true, has_secret: true });
    expect((await call('GET', `/api/http-json/connections/${String(apiId)}`)).json['name']).toBe('api');
    expect(((await call('GET', '/connections/http-json')).json['connections'] as Json[]).map((connection) => connection['id'])).toEqual([apiId]);
    expect((await call('PUT', `/api/http-json/connections/${String(apiId)}`, { secret: null })).json['has_secret']).toBe(false);
    expect((await call('GET', `/api/http-json/connections/${String(id)}`)).status).toBe(404);
    expect((await call('DELETE', `/api/http-json/connections/${String(apiId)}`)).json).toEqual({ deleted: true, id: apiId });
    expect((await call('GET', '/api/http-json/connections')).json).toEqual({ connections: [] });

    // Storage: what runs, without credentials; a change is 409, restating it 200.
    const storage = await call('GET', '/connections/storage');
    expect(storage.json).toMatchObject({ backend: 'local', data_dir: arc.dataDir, read_only: true });
    const change = await call('PUT', '/api/v1/connections/storage', { backend: 's3', bucket: 'b' });
    expect(change.status).toBe(409);
    expect(change.json).toMatchObject({ code: 'ARC_IMPORT_STORAGE_READ_ONLY', field: 'backend' });
    expect(change.json['error']).toContain('arc.conf');
    expect((await call('POST', '/connections/storage', { backend: 'local' })).status).toBe(200);

    // Admin only.
    const reader = await createToken(url, { name: 'conn-reader', permissions: ['read', 'write'] });
    for (const [method, route] of [['GET', '/connections/influx'], ['POST', '/connections/influx'], ['GET', '/api/http-json/connections'], ['GET', '/connections/storage'], ['DELETE', `/connections/influx/${String(id)}`]] as const) {
      expect((await call(method, route, method === 'POST' ? { name: 'z', settings: { url: 'http://i' } } : undefined, reader.token)).status, `${method} ${route}`).toBe(403);
      expect((await call(method, route, undefined, null)).status, `${method} ${route}`).toBe(401);
    }

    // Delete.
    expect((await call('DELETE', `/api/v1/connections/influx/${String(v2.json['id'] as number)}`)).json).toMatchObject({ deleted: true });

    for (const text of answers) expectNoSecret(text);
    const stopped = await arc.stop();
    expect(stopped).toBe(0);
    expectNoSecret(arc.output());

    // The generated key is in the data directory, owner only; the secrets on disk are sealed with it.
    const keyFile = path.join(arc.dataDir, 'import_secret.key');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    for (const name of readdirSync(arc.dataDir).filter((file) => file.startsWith('import_connections'))) expectNoSecret(readFileSync(path.join(arc.dataDir, name)).toString('latin1'));
    const keyHex = importSecretKeyHex(readFileSync(keyFile, 'utf8').trim());
    expect(keyHex).not.toBeNull();
    const store = ConnectionStore.open(path.join(arc.dataDir, CONNECTION_FILE_NAME), new SecretBox(Buffer.from(keyHex ?? '', 'hex'), keyFile));
    expect(store.sourceConnection(store.get('influx', id)).secret).toBe(SECRET);
    store.close();

    // A restart keeps them.
    const again = await start({}, arc.dataDir);
    const kept = await send(again.url, 'GET', '/connections/influx');
    expect((kept.json() as { connections: Json[] }).connections).toEqual([expect.objectContaining({ id, name: 'older', has_secret: true, active: false })]);
    expect(await again.stop()).toBe(0);

    // Another key stops the start, naming the setting; the connections stay as they were.
    const otherKey = 'ab'.repeat(32);
    await expect(start({ ARC_IMPORT_SECRET_KEY: otherKey }, arc.dataDir)).rejects.toThrow(/cannot start: .*import\.secret_key.*\(ARC_IMPORT_SECRET_KEY_MISMATCH\)/);
    // The generated key given as the setting opens them.
    const withSetting = await start({ ARC_IMPORT_SECRET_KEY: keyHex ?? '' }, arc.dataDir);
    expect((await send(withSetting.url, 'GET', '/connections/postgres')).json()).toMatchObject({ connections: [{ name: 'warehouse', has_secret: true }] });
  });
});
