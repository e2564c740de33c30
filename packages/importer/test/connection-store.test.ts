// Proves the connection store on a real SQLite file in a temporary directory: CRUD with the checks
// every build makes (name, URL scheme, no password in a URL, influx version -> source type), one
// active connection per type, unique names per type, secrets sealed on disk (the file's bytes do not
// hold them) yet opened for a driver after a reopen, and a reopen with another key refused.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CONNECTION_FILE_NAME, ConnectionStore, ImporterErrorCode, SecretBox, SourceType, draftSourceConnection, generateSecretKey } from '@arc/importer';
import { errorOf } from './support/arc-error-of.js';

let directory: string;
let file: string;
const key = generateSecretKey();
const box = (): SecretBox => new SecretBox(key, 'import.secret_key');

beforeEach(() => {
  directory = mkdtempSync(path.join(tmpdir(), 'arc-connections-'));
  file = path.join(directory, CONNECTION_FILE_NAME);
});
afterEach(() => rmSync(directory, { recursive: true, force: true }));


describe('ConnectionStore', () => {
  it('creates, lists, updates, activates and deletes, the first of a type active', () => {
    const store = ConnectionStore.open(file, box());
    const a = store.create('influx', { name: 'old-influx', settings: { url: 'http://influx:8086', database: 'src' }, secret: 'pw1' });
    expect(a).toMatchObject({ type: 'influx', sourceType: SourceType.influx1, name: 'old-influx', settings: { version: 1, url: 'http://influx:8086', database: 'src' }, hasSecret: true, active: true });
    const b = store.create('influx', { name: 'new-influx', settings: { version: 2, url: 'https://cloud', org: 'o', bucket: 'b' }, secret: null });
    expect(b).toMatchObject({ sourceType: SourceType.influx2, hasSecret: false, active: false });
    const pg = store.create('postgres', { name: 'old-influx', settings: { url: 'postgres://reader@db:5432/metrics' }, secret: 'pw' });
    expect(pg.active).toBe(true);
    expect(store.list('influx').map((connection) => connection.name)).toEqual(['old-influx', 'new-influx']);

    expect(store.activate('influx', b.id).active).toBe(true);
    expect(store.get('influx', a.id).active).toBe(false);
    expect(store.active('influx')?.id).toBe(b.id);
    expect(store.active('postgres')?.id).toBe(pg.id);

    const renamed = store.update('influx', a.id, { name: 'renamed', secret: null });
    expect(renamed).toMatchObject({ name: 'renamed', hasSecret: false, settings: a.settings });
    expect(store.update('influx', a.id, { settings: { version: 2, url: 'http://x', org: 'o', bucket: 'b' } }).sourceType).toBe(SourceType.influx2);

    store.delete('influx', b.id, []);
    expect(store.active('influx')).toBeNull();
    expect(errorOf(() => store.get('influx', b.id)).code).toBe(ImporterErrorCode.connectionNotFound);
    // An id of another type is not found under this one.
    expect(errorOf(() => store.get('influx', pg.id)).code).toBe(ImporterErrorCode.connectionNotFound);
    expect(store.find(pg.id)?.type).toBe('postgres');
    // Ids are not reused: a job naming a deleted connection never finds another one.
    expect(store.create('influx', { name: 'again', settings: { url: 'http://i' }, secret: null }).id).toBeGreaterThan(b.id);
    store.close();
  });

  it('refuses a taken name per type with 409, and a connection a job uses with 409 naming the job', () => {
    const store = ConnectionStore.open(file, box());
    const a = store.create('http-json', { name: 'api', settings: { url: 'https://api.example.com' }, secret: null });
    const b = store.create('http-json', { name: 'api2', settings: { url: 'https://api.example.com' }, secret: null });
    expect(errorOf(() => store.create('http-json', { name: 'api', settings: { url: 'http://other' }, secret: null })).code).toBe(ImporterErrorCode.connectionNameTaken);
    expect(errorOf(() => store.update('http-json', b.id, { name: 'api' })).code).toBe(ImporterErrorCode.connectionNameTaken);
    const inUse = errorOf(() => store.delete('http-json', a.id, ['nightly']));
    expect(inUse.code).toBe(ImporterErrorCode.connectionInUse);
    expect(inUse.message).toContain("'nightly'");
    expect(store.get('http-json', a.id).name).toBe('api');
    store.close();
  });

  it.each([
    ['influx', { name: '', settings: { url: 'http://i' } }, ImporterErrorCode.badConnection, 'name'],
    ['influx', { name: 'x'.repeat(129), settings: { url: 'http://i' } }, ImporterErrorCode.badConnection, 'name'],
    ['influx', { name: 'a\nb', settings: { url: 'http://i' } }, ImporterErrorCode.badConnection, 'name'],
    ['influx', { name: 'a', settings: {} }, ImporterErrorCode.badSettings, 'settings.url'],
    ['influx', { name: 'a', settings: { url: 'ftp://i' } }, ImporterErrorCode.badSettings, 'settings.url'],
    ['influx', { name: 'a', settings: { url: 'not a url' } }, ImporterErrorCode.badSettings, 'settings.url'],
    ['influx', { name: 'a', settings: { url: 'http://i', version: 3 } }, ImporterErrorCode.badSettings, 'settings.version'],
    ['influx', { name: 'a', settings: { url: 'http://u:pw@i' } }, ImporterErrorCode.badSettings, 'settings.url'],
    ['postgres', { name: 'a', settings: { url: 'postgres://u:hunter2@db/x' } }, ImporterErrorCode.badSettings, 'settings.url'],
    ['postgres', { name: 'a', settings: { url: 'http://db/x' } }, ImporterErrorCode.badSettings, 'settings.url'],
    ['postgres', { name: 'a', settings: { database: 'x' } }, ImporterErrorCode.badSettings, 'settings.url'],
    ['postgres', { name: 'a', settings: { host: 'db', password: 'p' } }, ImporterErrorCode.badSettings, 'settings.password'],
    ['http-json', { name: 'a', settings: { url: 'postgres://db' } }, ImporterErrorCode.badSettings, 'settings.url'],
    ['http-json', { name: 'a', settings: { url: 'http://x', headers: { h: 'v'.repeat(20_000) } } }, ImporterErrorCode.badSettings, 'settings'],
    ['http-json', { name: 'a', settings: { url: 'http://x' }, secret: '' }, ImporterErrorCode.badConnection, 'secret'],
    ['http-json', { name: 'a', settings: { url: 'http://x' }, secret: 's'.repeat(4097) }, ImporterErrorCode.badConnection, 'secret'],
  ] as const)('refuses a %s connection %j with 400 naming the field', (type, draft, code, field) => {
    const store = ConnectionStore.open(file, box());
    const error = errorOf(() => store.create(type, { secret: null, ...draft }));
    expect(error.kind).toBe('bad_request');
    expect(error.code).toBe(code);
    expect(error.details?.['field']).toBe(field);
    expect(error.message).not.toContain('hunter2');
    expect(store.list(type)).toEqual([]);
    store.close();
  });

  it('keeps secrets sealed on disk and opens them after a reopen; a draft is checked like a stored one', () => {
    const secret = 'the-password-that-must-not-leak-0123456789';
    const store = ConnectionStore.open(file, box());
    const created = store.create('postgres', { name: 'pg', settings: { host: 'db', database: 'm', user: 'r' }, secret });
    store.update('postgres', created.id, { name: 'pg2' });
    expect(JSON.stringify(store.get('postgres', created.id))).not.toContain(secret);
    store.close();
    for (const name of readdirSync(directory)) expect(readFileSync(path.join(directory, name)).includes(Buffer.from(secret)), name).toBe(false);

    const reopened = ConnectionStore.open(file, box());
    const connection = reopened.get('postgres', created.id);
    expect(reopened.sourceConnection(connection)).toEqual({ type: SourceType.postgres, settings: { host: 'db', database: 'm', user: 'r' }, secret });
    reopened.close();
    expect(draftSourceConnection('influx', { version: 2, url: 'http://i' }, 'tok')).toEqual({ type: SourceType.influx2, settings: { version: 2, url: 'http://i' }, secret: 'tok' });
    expect(errorOf(() => draftSourceConnection('influx', { url: 'http://u:p@i' }, null)).details?.['field']).toBe('settings.url');
  });

  it('refuses to open with another key: ARC_IMPORT_SECRET_KEY_MISMATCH naming import.secret_key, the file untouched', () => {
    const store = ConnectionStore.open(file, box());
    store.create('influx', { name: 'a', settings: { url: 'http://i' }, secret: 'pw' });
    store.close();
    const error = errorOf(() => ConnectionStore.open(file, new SecretBox(generateSecretKey(), 'import.secret_key')));
    expect(error.code).toBe(ImporterErrorCode.secretKeyMismatch);
    expect(error.message).toContain('import.secret_key');
    const again = ConnectionStore.open(file, box());
    expect(again.list('influx').map((connection) => connection.name)).toEqual(['a']);
    again.close();
  });
});
