// Proves an acknowledged request refused at WAL replay is never lost: a request whose schema check
// depends on order (an all-null `V` beside buffered `v` rows) is applied after kill -9 although
// another stream's entries, replayed in a different order than they arrived, conflict with it; an
// entry that can no longer be applied (the body limit was lowered before the restart) lands in
// the dead-letter directory, is counted and listed, survives WAL cleanup, and is re-applied through
// the admin endpoint once the limit allows it (validation and permissions included), and is not
// re-applied while the segments of a failed recovery are kept, with the WAL off, or whole when rows
// of one of its measurements were already in Parquet (it can be deleted instead).
import { readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { pollUntil } from '../../../test/support/poll-until.js';
import { ArcClient, msgpack } from './support/arc-client.js';
import { TEST_TOKEN } from './support/arc-process.js';
import { useStartedArcs } from './support/started-arcs.js';
import { createToken, send } from './support/token-helpers.js';

const { started, start, crashAndRestart } = useStartedArcs();

const auth = { Authorization: `Bearer ${TEST_TOKEN}` };
const BASE_MS = 1_700_000_000_000;

/** `rows` rows of `m` with an int field `v` (line protocol BIGINT and msgpack integers alike). */
function rowsOf(measurement: string, first: number, rows: number): Uint8Array {
  const values = Array.from({ length: rows }, (_, row) => first + row);
  return msgpack({ m: measurement, columns: { time: values.map((value) => BASE_MS + value), v: values } });
}

describe('WAL replay refusals', () => {
  it('applies an acknowledged entry that conflicts only with rows replayed before it in a different order', { timeout: 180_000 }, async () => {
    // Two decoders (two WAL streams), one writer: sequential requests alternate streams 0 and 1.
    const env = { ARC_WAL_ENABLED: 'true', ARC_INGEST_DECODERS: '2', ARC_WRITER_THREADS: '1', ARC_WRITER_FLUSH_AGE_MS: '600000', ARC_WRITER_FLUSH_ROWS: '10000000' };
    const first = await start(env);
    const client = new ArcClient(first.url);
    // Stream 0: large entries (slow to replay), then the entry under test. Stream 1: as many small
    // ones, then many `v` entries, all acknowledged after the entry under test. Replay runs the
    // streams side by side, so the order it meets them in is a race: SLOW_ENTRIES large entries
    // (1.2M rows) against as many 10-row ones make stream 1 reach its `v` rows long before stream 0
    // reaches the entry under test, even on a loaded 2-core machine (one large entry was not enough).
    const SLOW_ENTRIES = 20;
    for (let request = 0; request < SLOW_ENTRIES; request++) {
      expect((await client.write(rowsOf('slow', request * 60_000, 60_000))).status).toBe(204); // stream 0
      expect((await client.write(rowsOf('other', request * 10, 10))).status).toBe(204); // stream 1
    }
    // `V` is null in every row: at ingest it adds no column (nothing of `cpu` is buffered yet), so
    // the `v` rows after it are accepted; replayed after them, its `V` clashes with `v` by case.
    const underTest = msgpack({ m: 'cpu', columns: { time: [BASE_MS - 1], V: [null], x: [42.5] } });
    expect((await client.write(underTest)).status).toBe(204); // stream 0
    for (let request = 0; request < 150; request++) {
      expect((await client.write(rowsOf('cpu', request * 2000, 2000))).status).toBe(204); // stream 1
      expect((await client.write(rowsOf('filler', request, 1))).status).toBe(204); // stream 0
    }
    const second = await crashAndRestart(first, env);
    const restarted = new ArcClient(second.url);
    expect(await restarted.rows('SELECT count(*), sum(x) FROM cpu WHERE x IS NOT NULL')).toEqual([[1, 42.5]]);
    expect(await restarted.rows('SELECT count(*), count(DISTINCT v) FROM cpu WHERE v IS NOT NULL')).toEqual([[300_000, 300_000]]);
    const status = (await restarted.get('/api/wal/status', auth)).json() as { recovery: Record<string, unknown> };
    expect(status.recovery).toMatchObject({ state: 'done', entriesDeadLettered: 0 });
    expect(await restarted.rows('SELECT count(*) FROM slow')).toEqual([[SLOW_ENTRIES * 60_000]]);
    // The conflict did happen at replay (else this test proved nothing), and was cured alone.
    expect(second.output()).toMatch(/refused beside the other streams' replays \(ARC_SCHEMA_CONFLICT: Column 'V'/);
  });

  it('keeps an entry that can no longer be applied as a dead letter, lists it, and re-applies it once it fits', { timeout: 240_000 }, async () => {
    // No flush before the kill (by age or rows): none of the entry's rows are in Parquet.
    const generous = { ARC_WAL_ENABLED: 'true', ARC_WRITER_FLUSH_AGE_MS: '600000', ARC_WRITER_FLUSH_ROWS: '10000000', ARC_SERVER_BODY_MAX_MB: '8' };
    const strict = { ...generous, ARC_SERVER_BODY_MAX_MB: '1' };
    const first = await start(generous);
    let client = new ArcClient(first.url);
    // 1.4 MB of line protocol without timestamps, gzipped to a few KB: accepted under an 8 MB limit.
    const lines = Array.from({ length: 70_000 }, (_, line) => `dl,host=h${line % 7} v=${line}i`).join('\n');
    const big = gzipSync(Buffer.from(lines));
    const writtenBeforeMs = Date.now();
    expect((await client.write(big, { path: '/write?db=default', headers: { 'Content-Type': 'text/plain' } })).status).toBe(204);
    expect((await client.write(rowsOf('small', 0, 10))).status).toBe(204);

    // Restarted with a 1 MB limit: the big entry no longer decompresses within it.
    const second = await crashAndRestart(first, strict);
    client = new ArcClient(second.url);
    expect(await client.rows('SELECT count(*) FROM small')).toEqual([[10]]);
    const status = (await client.get('/api/v1/wal/status', auth)).json() as { recovery: Record<string, unknown>; dead_letter: Record<string, unknown> };
    expect(status.recovery).toMatchObject({ state: 'done', entriesReplayed: 1, entriesDeadLettered: 1, deadLetters: 1 });
    expect(status.dead_letter).toMatchObject({ entries: 1 });
    expect(second.output()).toMatch(/could not be replayed \(ARC_PAYLOAD_TOO_LARGE.*kept as dead letter/);
    const stats = (await client.get('/api/wal/stats', auth)).json() as Record<string, number>;
    expect(stats.dead_letter_entries).toBe(1);
    expect(stats.dead_letter_bytes).toBeGreaterThan(big.byteLength);
    const health = await client.get('/api/wal/health', auth);
    expect(health.status).toBe(503);
    expect(health.text).toMatch(/1 acknowledged WAL entries .* dead letters/);

    // Listing: admin only, the entry's envelope and the reason.
    expect((await send(second.url, 'GET', '/api/v1/wal/dead-letter', { token: null })).status).toBe(401);
    const reader = await createToken(second.url, { name: 'reader', permissions: ['read', 'write'] });
    expect((await send(second.url, 'GET', '/api/v1/wal/dead-letter', { token: reader.token })).status).toBe(403);
    expect((await send(second.url, 'POST', '/api/v1/wal/dead-letter/replay', { token: reader.token, body: {} })).status).toBe(403);
    const listing = await send(second.url, 'GET', '/api/wal/dead-letter');
    expect(listing.status, listing.text).toBe(200);
    const listed = listing.json() as { count: number; directory: string; entries: Record<string, unknown>[] };
    expect(listed.count).toBe(1);
    expect(listed.directory).toBe(path.join(second.dataDir, 'wal', 'dead-letter'));
    const [letter] = listed.entries;
    expect(letter).toMatchObject({ database: 'default', format: 'line_protocol', precision: 'ns', body_bytes: big.byteLength, error: { code: 'ARC_PAYLOAD_TOO_LARGE' } });
    const id = String(letter?.id);
    expect(Date.parse(String(letter?.received_at))).toBeGreaterThanOrEqual(writtenBeforeMs - 1000);
    expect((await readdir(listed.directory)).sort()).toEqual([`${id}.entry`, `${id}.json`]);

    // Bad input names the field; unknown ids are 404; nothing is applied then.
    const bad = async (body: unknown): Promise<{ status: number; field?: string; code: string }> => {
      const reply = await send(second.url, 'POST', '/api/v1/wal/dead-letter/replay', { body });
      return { status: reply.status, ...(reply.json() as { field?: string; code: string }) };
    };
    expect(await bad({ ids: 'all' })).toMatchObject({ status: 400, field: 'ids', code: 'ARC_BAD_REQUEST_BODY' });
    expect(await bad({ ids: [] })).toMatchObject({ status: 400, field: 'ids' });
    expect(await bad({ ids: ['../../arc.db'] })).toMatchObject({ status: 400, field: 'ids[0]' });
    expect(await bad({ everything: true })).toMatchObject({ status: 400, field: 'everything' });
    expect(await bad({ ids: ['000-0000000000009999'] })).toMatchObject({ status: 404, field: 'ids[0]', code: 'ARC_DEAD_LETTER_NOT_FOUND' });
    expect((await send(second.url, 'POST', '/api/v1/wal/dead-letter/replay', { body: 'not json' })).status).toBe(400);

    // Re-applied under the same limit: refused again, kept, with the reason.
    const again = await send(second.url, 'POST', '/api/v1/wal/dead-letter/replay', { body: {} });
    expect(again.status, again.text).toBe(200);
    expect(again.json()).toMatchObject({ success: false, applied: 0, refused: 1, remaining: 1, results: [{ id, status: 'refused', error: { code: 'ARC_PAYLOAD_TOO_LARGE' } }] });
    // WAL cleanup leaves dead letters alone.
    expect((await client.post('/api/v1/wal/cleanup', '', auth)).status).toBe(200);
    expect((await readdir(listed.directory)).sort()).toEqual([`${id}.entry`, `${id}.json`]);

    // Back to the old limit: the dead letter survives the restart and lands when re-applied.
    await second.stop();
    started.splice(started.indexOf(second), 1);
    const third = await start(generous, second.dataDir);
    client = new ArcClient(third.url);
    expect(((await client.get('/api/wal/status', auth)).json() as { recovery: Record<string, unknown> }).recovery).toMatchObject({ entriesDeadLettered: 0, deadLetters: 1 });
    const applied = await send(third.url, 'POST', '/api/wal/dead-letter/replay', { body: { ids: [id] } });
    expect(applied.status, applied.text).toBe(200);
    expect(applied.json(), applied.text).toMatchObject({ success: true, applied: 1, refused: 0, remaining: 0, results: [{ id, status: 'applied', rows: 70_000 }] });
    expect((await send(third.url, 'GET', '/api/wal/dead-letter')).json()).toMatchObject({ count: 0, entries: [] });
    expect(await readdir(listed.directory)).toEqual([]);
    expect((await client.get('/api/wal/health', auth)).status).toBe(200);

    // Re-applied through the WAL: a crash now keeps it, exactly once, at its original arrival time.
    const fourth = await crashAndRestart(third, generous);
    client = new ArcClient(fourth.url);
    const expectedSum = (70_000 * 69_999) / 2;
    expect(await client.rows('SELECT count(*), count(DISTINCT v), sum(v) FROM dl')).toEqual([[70_000, 70_000, expectedSum]]);
    const [[earliest, latest]] = (await client.rows('SELECT epoch_ms(min(time)), epoch_ms(max(time)) FROM dl')) as [[number, number]];
    expect(earliest).toBe(latest);
    expect(earliest).toBeGreaterThanOrEqual(writtenBeforeMs - 1000);
    expect(earliest).toBeLessThan(Date.parse(String(letter?.dead_lettered_at)));
  });

  it('refuses to re-apply while this start\'s recovery failed (its segments replay again) or with the WAL off', { timeout: 180_000 }, async () => {
    const env = { ARC_WAL_ENABLED: 'true', ARC_WRITER_FLUSH_AGE_MS: '600000' };
    const first = await start(env);
    expect((await new ArcClient(first.url).write(rowsOf('cpu', 0, 10), { database: 'faulty' })).status).toBe(204);
    await first.kill();
    started.splice(started.indexOf(first), 1);
    // A file where the database directory should be: the replayed rows cannot be flushed. (The
    // write claimed the names with empty directories, storage's names rule: they go first.)
    await rm(path.join(first.dataDir, 'arc', 'faulty'), { recursive: true, force: true });
    await writeFile(path.join(first.dataDir, 'arc', 'faulty'), 'not a directory');
    const second = await start(env, first.dataDir);
    const status = (await new ArcClient(second.url).get('/api/wal/status', auth)).json() as { recovery: Record<string, unknown> };
    expect(status.recovery).toMatchObject({ state: 'failed' });
    const blocked = await send(second.url, 'POST', '/api/wal/dead-letter/replay', { body: {} });
    expect(blocked.status, blocked.text).toBe(409);
    expect(blocked.json()).toMatchObject({ code: 'ARC_WAL_RECOVERY_INCOMPLETE' });

    const third = await crashAndRestart(second, { ARC_WAL_ENABLED: 'false' });
    expect((await send(third.url, 'GET', '/api/v1/wal/dead-letter')).json()).toMatchObject({ count: 0, entries: [] });
    const off = await send(third.url, 'POST', '/api/v1/wal/dead-letter/replay', { body: {} });
    expect(off.status, off.text).toBe(409);
    expect(off.json()).toMatchObject({ code: 'ARC_WAL_DISABLED' });
  });

  it('does not re-apply whole a dead letter whose rows of one measurement were already in Parquet, drops one wholly in Parquet, and deletes on request', { timeout: 240_000 }, async () => {
    const env = { ARC_WAL_ENABLED: 'true', ARC_WRITER_FLUSH_AGE_MS: '600000', ARC_WRITER_FLUSH_ROWS: '1000', ARC_SERVER_BODY_MAX_MB: '8' };
    const first = await start(env);
    const rows = Array.from({ length: 20_000 }, (_, row) => row);
    // part_a (20,000 rows) passes flush_rows and is flushed at once; part_b (5 rows) stays buffered.
    const body = gzipSync(
      msgpack({
        batch: [
          { m: 'part_a', columns: { time: rows.map((row) => BASE_MS + row), v: rows, pad: rows.map((row) => `${row}-${'p'.repeat(64)}`) } },
          { m: 'part_b', columns: { time: [BASE_MS, BASE_MS + 1, BASE_MS + 2, BASE_MS + 3, BASE_MS + 4], w: [1, 2, 3, 4, 5] } },
        ],
      }),
    );
    expect((await new ArcClient(first.url).write(body)).status).toBe(204); // stream 0
    // A second request wholly flushed before the crash (only its replay will fail).
    const whole = gzipSync(msgpack({ m: 'full_a', columns: { time: rows.map((row) => BASE_MS + row), v: rows, pad: rows.map((row) => `${row}-${'p'.repeat(64)}`) } }));
    expect((await new ArcClient(first.url).write(whole)).status).toBe(204); // stream 1
    // The flush that lands these rows is the event; no answer tells when it happened.
    const counts = (): Promise<unknown[][]> => new ArcClient(first.url).rows('SELECT (SELECT count(*) FROM part_a), (SELECT count(*) FROM full_a)').catch(() => [[0, 0]]);
    await pollUntil('both requests flushed', 30_000, counts, (found) => JSON.stringify(found) === '[[20000,20000]]');
    const second = await crashAndRestart(first, { ...env, ARC_SERVER_BODY_MAX_MB: '1' });
    const letters = ((await send(second.url, 'GET', '/api/v1/wal/dead-letter')).json() as { entries: Record<string, unknown>[] }).entries;
    expect(letters).toMatchObject([
      { stream: 0, format: 'msgpack', error: { code: 'ARC_PAYLOAD_TOO_LARGE' }, already_in_parquet: ['part_a'] },
      { stream: 1, format: 'msgpack', error: { code: 'ARC_PAYLOAD_TOO_LARGE' }, already_in_parquet: ['full_a'] },
    ]);
    const id = String(letters[0]?.id);
    const wholeId = String(letters[1]?.id);

    const third = await crashAndRestart(second, env);
    const reapplied = await send(third.url, 'POST', '/api/v1/wal/dead-letter/replay', { body: {} });
    expect(reapplied.status, reapplied.text).toBe(200);
    expect(reapplied.json()).toMatchObject({
      applied: 1,
      refused: 1,
      remaining: 1,
      results: [
        { id, status: 'refused', error: { code: 'ARC_DEAD_LETTER_PARTLY_IN_PARQUET' } },
        { id: wholeId, status: 'applied', rows: 0 },
      ],
    });
    const client = new ArcClient(third.url);
    expect(await client.rows('SELECT (SELECT count(*) FROM part_a), (SELECT count(*) FROM full_a)')).toEqual([[20_000, 20_000]]);

    expect((await send(third.url, 'DELETE', '/api/v1/wal/dead-letter/not-an-id')).status).toBe(400);
    expect((await send(third.url, 'DELETE', `/api/wal/dead-letter/${id}`, { token: null })).status).toBe(401);
    const deleted = await send(third.url, 'DELETE', `/api/wal/dead-letter/${id}`);
    expect(deleted.status, deleted.text).toBe(200);
    expect(deleted.json()).toMatchObject({ deleted: id, remaining: 0 });
    expect((await send(third.url, 'DELETE', `/api/wal/dead-letter/${id}`)).status).toBe(404);
  });
});
