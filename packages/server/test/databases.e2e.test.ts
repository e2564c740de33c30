// Proves the databases API against the real server: counts and sizes that match the Parquet
// files on disk, exact 400/404/409 bodies for every bad request, creation of the namespace
// directory, and a delete (of a measurement, of a database) that goes through the writers: buffered
// rows are dropped, never flushed after it, every file goes, and the query threads forget the
// database and learn it again when it is written anew.
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { msgpack } from './support/arc-client.js';
import { useSharedArc } from './support/shared-arc.js';
import { send } from './support/token-helpers.js';

const shared = useSharedArc({ ARC_WRITER_FLUSH_AGE_MS: '600000' });
const url = (): string => shared.arc.url;
const HOUR_MS = 3_600_000;
const T0_MS = Date.UTC(2025, 9, 16, 16, 0, 0);

/** Parquet files under a directory of the data root, and their total size, as the disk says. */
async function onDisk(...parts: string[]): Promise<{ files: number; bytes: number }> {
  const root = path.join(shared.arc.dataDir, 'arc', ...parts);
  const entries = (await readdir(root, { recursive: true }).catch(() => [] as string[])).filter((entry) => entry.endsWith('.parquet'));
  let bytes = 0;
  for (const entry of entries) bytes += (await stat(path.join(root, entry))).size;
  return { files: entries.length, bytes };
}

const mb = (bytes: number): number => Math.round((bytes / (1024 * 1024)) * 1000) / 1000;

async function writeRows(database: string, measurement: string, times: number[]): Promise<void> {
  const body = msgpack({ m: measurement, columns: { time: times, host: times.map(() => 'h'), v: times.map((_, index) => index) } });
  const answer = await shared.client.write(body, { database });
  expect(answer.status, answer.text).toBe(204);
}

describe('databases API', () => {
  it('lists databases with measurement count, file count and sizes that match the disk', async () => {
    await writeRows('inventory', 'cpu', [T0_MS, T0_MS + HOUR_MS]);
    await writeRows('inventory', 'mem', [T0_MS]);
    expect((await shared.client.flush()).status).toBe(200);
    const cpu = await onDisk('inventory', 'cpu');
    const mem = await onDisk('inventory', 'mem');
    expect([cpu.files, mem.files]).toEqual([2, 1]);
    const total = cpu.bytes + mem.bytes;
    const expected = { name: 'inventory', measurement_count: 2, file_count: 3, total_size_bytes: total, total_size_mb: mb(total) };

    const list = await send(url(), 'GET', '/api/v1/databases');
    expect(list.status).toBe(200);
    const listed = list.json() as { success: boolean; databases: { name: string }[]; count: number };
    expect(listed.success).toBe(true);
    expect(listed.count).toBe(listed.databases.length);
    expect(listed.databases).toContainEqual(expected);

    expect((await send(url(), 'GET', '/api/v1/databases/inventory')).json()).toEqual({ success: true, database: expected });
    expect((await send(url(), 'GET', '/api/v1/databases/inventory/measurements')).json()).toEqual({
      success: true,
      database: 'inventory',
      measurements: [
        { name: 'cpu', file_count: 2, total_size_bytes: cpu.bytes, total_size_mb: mb(cpu.bytes) },
        { name: 'mem', file_count: 1, total_size_bytes: mem.bytes, total_size_mb: mb(mem.bytes) },
      ],
      count: 2,
    });
  });

  it('creates an empty database directory (201) that is listed with zeros', async () => {
    const created = await send(url(), 'POST', '/api/v1/databases', { body: { name: 'fresh' } });
    expect([created.status, created.json()]).toEqual([201, { success: true, database: { name: 'fresh', measurement_count: 0, file_count: 0, total_size_bytes: 0, total_size_mb: 0 } }]);
    expect((await stat(path.join(shared.arc.dataDir, 'arc', 'fresh'))).isDirectory()).toBe(true);
    expect((await send(url(), 'GET', '/api/v1/databases/fresh')).json()).toEqual({
      success: true,
      database: { name: 'fresh', measurement_count: 0, file_count: 0, total_size_bytes: 0, total_size_mb: 0 },
    });
  });

  const BAD_CREATES: readonly { readonly body: unknown; readonly status: number; readonly error: Record<string, unknown> }[] = [
    { body: {}, status: 400, error: { error: "Invalid request body: field 'name' is required", code: 'ARC_BAD_REQUEST_BODY', field: 'name' } },
    { body: { name: 5 }, status: 400, error: { error: "Invalid request body: field 'name' must be a string", code: 'ARC_BAD_REQUEST_BODY', field: 'name' } },
    { body: { name: 'x', retention: 3 }, status: 400, error: { error: "Invalid request body: unknown field 'retention'", code: 'ARC_BAD_REQUEST_BODY', field: 'retention' } },
    { body: 'name=x', status: 400, error: { error: expect.stringMatching(/^Request body is not valid JSON: /) as string, code: 'ARC_BAD_JSON' } },
    { body: { name: 'bad name' }, status: 400, error: { error: "Invalid database name 'bad name': must match ^[A-Za-z][A-Za-z0-9_-]{0,63}$", code: 'ARC_BAD_DATABASE_NAME', database: 'bad name' } },
    { body: { name: '../etc' }, status: 400, error: { error: "Invalid database name '../etc': must match ^[A-Za-z][A-Za-z0-9_-]{0,63}$", code: 'ARC_BAD_DATABASE_NAME', database: '../etc' } },
    { body: { name: 'system' }, status: 400, error: { error: "Database name 'system' is reserved", code: 'ARC_RESERVED_DATABASE_NAME', database: 'system' } },
    { body: { name: 'inventory' }, status: 409, error: { error: "Database 'inventory' already exists", code: 'ARC_DATABASE_EXISTS', database: 'inventory' } },
    {
      body: { name: 'INVENTORY' },
      status: 409,
      error: {
        error: "Database 'INVENTORY' differs from the existing database 'inventory' only by case; names are case-sensitive but SQL cannot tell them apart: use 'inventory'",
        code: 'ARC_NAME_CASE_CONFLICT',
        database: 'INVENTORY',
        existing: 'inventory',
      },
    },
  ];

  it.each(BAD_CREATES)('POST /api/v1/databases $body: $status', async ({ body, status, error }) => {
    const answer = await send(url(), 'POST', '/api/v1/databases', { body: typeof body === 'string' ? body : JSON.stringify(body) });
    expect(answer.status, answer.text).toBe(status);
    expect(answer.json()).toEqual(error);
  });

  it.each([
    ['/api/v1/databases/inventory', 400, { error: "Deleting database 'inventory' removes all its files: repeat with ?confirm=true", code: 'ARC_CONFIRMATION_REQUIRED', database: 'inventory' }],
    ['/api/v1/databases/inventory?confirm=yes', 400, { error: "Deleting database 'inventory' removes all its files: repeat with ?confirm=true", code: 'ARC_CONFIRMATION_REQUIRED', database: 'inventory' }],
    ['/api/v1/databases/nowhere?confirm=true', 404, { error: "Database 'nowhere' not found", code: 'ARC_DATABASE_NOT_FOUND', database: 'nowhere' }],
    ['/api/v1/databases/bad%20name?confirm=true', 400, { error: "Invalid database name 'bad name': must match ^[A-Za-z][A-Za-z0-9_-]{0,63}$", code: 'ARC_BAD_DATABASE_NAME', database: 'bad name' }],
  ] as const)('DELETE %s: %i, nothing removed', async (target, status, error) => {
    const answer = await send(url(), 'DELETE', target);
    expect([answer.status, answer.json()]).toEqual([status, error]);
    expect((await onDisk('inventory')).files).toBe(3);
  });

  it('GET of a missing database is 404 and of a bad name 400', async () => {
    expect((await send(url(), 'GET', '/api/v1/databases/nowhere')).json()).toEqual({ error: "Database 'nowhere' not found", code: 'ARC_DATABASE_NOT_FOUND', database: 'nowhere' });
    const measurements = await send(url(), 'GET', '/api/v1/databases/nowhere/measurements');
    expect(measurements.status).toBe(404);
    const bad = await send(url(), 'GET', '/api/v1/databases/system');
    expect([bad.status, bad.json()]).toEqual([400, { error: "Database name 'system' is reserved", code: 'ARC_RESERVED_DATABASE_NAME', database: 'system' }]);
  });

  it('DELETE of a measurement removes its files only, and a missing one is 404', async () => {
    const missing = await send(url(), 'DELETE', '/api/v1/databases/inventory/measurements/nothing?confirm=true');
    expect([missing.status, missing.json()]).toEqual([404, { error: "Measurement 'nothing' not found in database 'inventory'", code: 'ARC_MEASUREMENT_NOT_FOUND', database: 'inventory', measurement: 'nothing' }]);
    await writeRows('inventory', 'doomed', [T0_MS]);
    expect((await shared.client.flush()).status).toBe(200);
    const before = (await onDisk('inventory')).files;
    const deleted = await send(url(), 'DELETE', '/api/v1/databases/inventory/measurements/doomed?confirm=true');
    expect(deleted.status, deleted.text).toBe(200);
    expect(deleted.json()).toMatchObject({ success: true, database: 'inventory', measurement: 'doomed', deleted: true, files_deleted: 1 });
    expect((await onDisk('inventory')).files).toBe(before - 1);
    expect(await shared.client.rows('SELECT count(*) FROM inventory.cpu')).toEqual([[2]]);
  });

  it('DELETE drops buffered rows, removes every file, and the database can be written again', async () => {
    expect(await shared.client.rows('SELECT count(*) FROM inventory.cpu')).toEqual([[2]]);
    // Buffered only (the flush age is ten minutes): the writers drop them, nothing flushes them later.
    await writeRows('inventory', 'pending', [T0_MS]);
    const deleted = await send(url(), 'DELETE', '/api/v1/databases/inventory?confirm=true');
    expect(deleted.status, deleted.text).toBe(200);
    const body = deleted.json() as { files_deleted: number; bytes_deleted: number };
    expect(body).toMatchObject({ success: true, database: 'inventory', deleted: true, files_deleted: 3 });
    expect(body.bytes_deleted).toBeGreaterThan(0);
    await expect(stat(path.join(shared.arc.dataDir, 'arc', 'inventory'))).rejects.toThrow(/ENOENT/);
    expect((await send(url(), 'GET', '/api/v1/databases/inventory')).status).toBe(404);
    expect(((await send(url(), 'GET', '/api/v1/databases')).json() as { databases: { name: string }[] }).databases.map((database) => database.name)).not.toContain('inventory');
    expect((await shared.client.query('SELECT count(*) FROM inventory.cpu')).status).toBe(400);
    // Nothing buffered survives to bring the database back at the next flush.
    expect((await shared.client.flush()).status).toBe(200);
    expect((await onDisk('inventory')).files).toBe(0);

    await writeRows('inventory', 'cpu', [T0_MS + 5 * HOUR_MS]);
    expect((await shared.client.flush()).status).toBe(200);
    expect(await shared.client.rows('SELECT count(*), min(time) FROM inventory.cpu')).toEqual([[1, '2025-10-16T21:00:00Z']]);
  });
});
