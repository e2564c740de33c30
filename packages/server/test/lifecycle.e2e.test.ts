// Proves the server's lifecycle promises: rows become visible within the flush age without an
// explicit flush, SIGTERM flushes every buffered row and exits 0, a restart reads what was written
// before (and removes the staged files a dead process left), bodies larger than a ring frame travel whole, full write buffers answer 503 +
// Retry-After without losing or half-writing anything, and a bad arc.conf stops the start.
import { expectCleanStop } from './support/clean-stop.js';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { pollUntil } from '../../../test/support/poll-until.js';
import { ArcClient, msgpack } from './support/arc-client.js';
import { startArc, type ArcProcess } from './support/arc-process.js';
import { ON_OBJECT_STORAGE } from '../../../test/support/s3-test-env.js';

const CLI_ENTRY = fileURLToPath(new URL('../../cli/dist/main.js', import.meta.url));
const VISIBLE_DEADLINE_MS = 15_000;

const started: ArcProcess[] = [];
afterEach(async () => {
  for (const arc of started.splice(0)) {
    await arc.stop();
    await arc.cleanup();
  }
});

describe('lifecycle', () => {
  it('flushes every buffer on SIGTERM, exits 0, and serves the rows after a restart', async () => {
    const first = await startArc({ ARC_WRITER_FLUSH_AGE_MS: '600000' });
    const client = new ArcClient(first.url);
    const rows = Array.from({ length: 1000 }, (_, index) => ({ m: 'durable', t: 1_700_000_000_000 + index, h: `h${index % 7}`, fields: { v: index } }));
    expect((await client.write(msgpack(rows))).status).toBe(204);
    expect((await client.write(msgpack({ m: 'other', t: 1, fields: { ok: true } }), { database: 'second' })).status).toBe(204);
    await expectCleanStop(first);
    expect(first.output()).toMatch(/stopped; every buffer flushed/);
    const second = await startArc({}, first.dataDir);
    started.push(second);
    const again = new ArcClient(second.url);
    expect(await again.rows('SELECT count(*), sum(v) FROM durable')).toEqual([[1000, 499500]]);
    expect(await again.rows('SELECT ok FROM other', 'second')).toEqual([[true]]);
    // The bootstrap token is printed on the first start only.
    expect(second.output()).not.toMatch(/bootstrap admin token/);
  });

  // Plants its fault in the local data directory (object storage: s3-outage.fault.test.ts).
  it.skipIf(ON_OBJECT_STORAGE)('removes the staged files a dead process left when it lists their measurement after a restart', async () => {
    const first = await startArc({ ARC_WRITER_FLUSH_AGE_MS: '600000' });
    const client = new ArcClient(first.url);
    expect((await client.write(msgpack({ m: 'leftover', t: Date.UTC(2025, 9, 16, 16, 5), fields: { v: 1 } }))).status).toBe(204);
    await expectCleanStop(first);
    // What a process killed mid-flush leaves: a staged file beside the published ones.
    const hourDirectory = path.join(first.dataDir, 'arc', 'default', 'leftover', '2025', '10', '16', '16');
    const dead = path.join(hourDirectory, 'staged-0123456789abcdef.parquet.tmp');
    await writeFile(dead, 'a partial Parquet file');
    await utimes(dead, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    const second = await startArc({}, first.dataDir);
    started.push(second);
    expect(await new ArcClient(second.url).rows('SELECT count(*) FROM leftover')).toEqual([[1]]);
    // The query waited for the measurement's listing, which removed the file.
    expect((await readdir(hourDirectory)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('makes a write wait while full write buffers flush, then acknowledges it, and keeps every row', async () => {
    // 512 KiB per writer, flushed only when a write finds them full: the writes below fill them
    // over and over, and each that does waits for the flush it started instead of getting a 503.
    const arc = await startArc({ ARC_WRITER_BUFFER_MAX_MB: '1', ARC_WRITER_FLUSH_BYTES_MB: '1', ARC_WRITER_FLUSH_ROWS: '100000000', ARC_WRITER_FLUSH_AGE_MS: '600000' });
    started.push(arc);
    const client = new ArcClient(arc.url);
    for (let request = 0; request < 40; request++) {
      const values = Array.from({ length: 5000 }, (_, index) => request * 5000 + index);
      const answer = await client.write(msgpack({ m: 'pressure', columns: { time: values.map((v) => 1_700_000_000_000 + v), s: values.map((v) => `value-${v}`) } }));
      expect(answer.status, answer.text).toBe(204);
    }
    const metrics = (await client.get('/metrics', client.authHeaders())).text;
    expect(metrics).toMatch(/^arc_ingest_waits_total\{outcome="handed_over"\} [1-9]/m);
    expect((await client.flush()).status).toBe(200);
    expect(await client.rows('SELECT count(*) FROM pressure')).toEqual([[40 * 5000]]);
  });

  it('answers 503 with Retry-After when a write waited ingest.wait_max_ms for buffers that cannot drain', async () => {
    // One byte short of nothing: a 1 MiB buffer over 2 writers cannot take a 1 MiB batch, ever.
    const arc = await startArc({ ARC_WRITER_BUFFER_MAX_MB: '1', ARC_WRITER_FLUSH_BYTES_MB: '1', ARC_INGEST_WAIT_MAX_MS: '300', ARC_SERVER_BODY_MAX_MB: '4' });
    started.push(arc);
    const client = new ArcClient(arc.url);
    const values = Array.from({ length: 60_000 }, (_, index) => index);
    const answer = await client.write(msgpack({ m: 'never', columns: { time: values.map((v) => 1_700_000_000_000 + v), s: values.map((v) => `value-${v}`) } }));
    expect(answer.status, answer.text).toBe(503);
    expect(answer.headers.get('retry-after')).toBe('1');
    expect(answer.json()).toMatchObject({ code: 'ARC_INGEST_WAIT_TIMEOUT' });
    expect((await client.write(msgpack({ m: 'small', t: 1_700_000_000_000, fields: { v: 1 } }))).status).toBe(204);
  });

  it('flushes by age: rows become queryable without POST /write/flush', async () => {
    const arc = await startArc({ ARC_WRITER_FLUSH_AGE_MS: '500' });
    started.push(arc);
    const client = new ArcClient(arc.url);
    expect((await client.write(msgpack({ m: 'aged', t: 1_700_000_000_000, fields: { v: 7 } }))).status).toBe(204);
    const aged = async (): Promise<unknown[][]> => {
      const answer = await client.query('SELECT v FROM aged');
      return answer.status === 200 ? (answer.json() as { data: unknown[][] }).data : [];
    };
    const { value: rows } = await pollUntil('the aged rows visible', VISIBLE_DEADLINE_MS, aged, (seen) => seen.length > 0);
    expect(rows).toEqual([[7]]);
  });

  it('carries a body larger than a ring frame whole (transferred buffer path)', async () => {
    const arc = await startArc({ ARC_INGEST_RING_MB: '1', ARC_INGEST_DECODERS: '1' });
    started.push(arc);
    const client = new ArcClient(arc.url);
    const rowCount = 60_000;
    const times = Array.from({ length: rowCount }, (_, index) => 1_700_000_000_000 + index);
    const body = msgpack({ m: 'large', columns: { time: times, host: times.map((_, index) => `host-${index % 50}`), v: times.map((_, index) => index) } });
    expect(body.byteLength).toBeGreaterThan(512 * 1024); // a 1 MiB ring takes frames up to 256 KiB
    for (let request = 0; request < 3; request++) expect((await client.write(body, { database: `large${request}` })).status).toBe(204);
    await client.flush();
    for (let request = 0; request < 3; request++) {
      expect(await client.rows('SELECT count(*), sum(v), count(DISTINCT host) FROM large', `large${request}`)).toEqual([[rowCount, (rowCount * (rowCount - 1)) / 2, 50]]);
    }
  });

  it('refuses to start with an unknown key in arc.conf, naming it', async () => {
    const directory = await mkdtemp(path.join(tmpdir(), 'arc-badconf-'));
    try {
      await writeFile(path.join(directory, 'arc.conf'), '[server]\nprot = 8000\n');
      const result = spawnSync(process.execPath, [CLI_ENTRY, 'serve'], { cwd: directory, env: { PATH: process.env.PATH ?? '' }, encoding: 'utf8', timeout: 30_000 });
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(/configuration error: Unknown key 'server\.prot'/);
      const badEnv = spawnSync(process.execPath, [CLI_ENTRY, 'serve'], { cwd: directory, env: { PATH: process.env.PATH ?? '', ARC_CONFIG: path.join(directory, 'none.conf'), ARC_PORT: 'eighty' }, encoding: 'utf8', timeout: 30_000 });
      expect(badEnv.status).toBe(1);
      expect(badEnv.stderr).toMatch(/configuration error/);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
