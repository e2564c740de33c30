// Proves that a full disk never loses an acknowledged row, with the WAL off and on: on a small tmpfs
// this test mounts and fills under a real server (data and WAL on it), concurrent writes get 503
// (ARC_STORAGE_FULL once flushes fail; with the WAL on, ARC_WAL_WRITE_FAILED when the log cannot
// be appended first) with Retry-After, writes resume once space is freed, and after SIGTERM and a
// restart every row that got a 204 is read back, exactly once.
import { expectCleanStop } from '../support/clean-stop.js';
import { mkdir } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { ArcClient, msgpack, type HttpAnswer } from '../support/arc-client.js';
import { startArc, type ArcProcess } from '../support/arc-process.js';
import { waitUntil } from '../../../../test/support/poll-until.js';
import { mountTmpfs, tmpfsUnavailable, type Tmpfs } from './support/tmpfs.js';

const TMPFS_MB = 48;
const ROWS_PER_REQUEST = 1000;
const CLIENTS = 4;
/** Flushes run often, so the first flush on the full disk fails within a fraction of a second. */
const FLUSH_AGE_MS = 200;
const REFUSAL_DEADLINE_MS = 20_000;
/** A writer's retry backs off up to 10 s, so writes may take that long to resume. */
const RESUME_DEADLINE_MS = 40_000;
const POLL_MS = 20;
const T0_MS = 1_760_000_000_000;

const unavailable = tmpfsUnavailable();
if (unavailable !== null) console.warn(`disk-full fault test skipped: ${unavailable}`);

/** Request `index` holds ids index*ROWS_PER_REQUEST .. +ROWS_PER_REQUEST-1, one row each. */
function requestBody(index: number): Uint8Array {
  const ids = Array.from({ length: ROWS_PER_REQUEST }, (_, row) => index * ROWS_PER_REQUEST + row);
  return msgpack({ m: 'filled', columns: { time: ids.map((id) => T0_MS + id), id: ids, host: ids.map((id) => `h${id % 5}`) } });
}

/** Codes a full disk may answer with: the writers' flush, or (WAL on) the log's own append. */
const FULL_DISK_CODES = ['ARC_STORAGE_FULL', 'ARC_WAL_WRITE_FAILED'];

/** A refusal must be a full-disk one, with Retry-After: never another error, never a drop. */
function expectStorageFull(answer: HttpAnswer): void {
  expect(answer.status, answer.text).toBe(503);
  expect(FULL_DISK_CODES).toContain((answer.json() as { code: unknown }).code);
  expect(answer.headers.get('retry-after')).toBe('1');
}

class Ledger {
  readonly acknowledged: number[] = [];
  private next = 0;

  async write(client: ArcClient): Promise<HttpAnswer> {
    const index = this.next++;
    const answer = await client.write(requestBody(index));
    if (answer.status === 204) this.acknowledged.push(index);
    else expectStorageFull(answer);
    return answer;
  }

  /** Writes until an answer has `status`, failing after `deadlineMs`. */
  async writeUntil(client: ArcClient, status: number, deadlineMs: number): Promise<void> {
    // Poll interval under the deadline: the answer to a write is the only signal of the change.
    await waitUntil(`a write answered ${String(status)}`, deadlineMs, async () => (await this.write(client)).status === status, POLL_MS);
  }

  /** count, distinct ids and their sum over every acknowledged request. */
  expected(): [number, number, number] {
    let sum = 0;
    for (const index of this.acknowledged) {
      for (let row = 0; row < ROWS_PER_REQUEST; row++) sum += index * ROWS_PER_REQUEST + row;
    }
    const count = this.acknowledged.length * ROWS_PER_REQUEST;
    return [count, count, sum];
  }
}

describe.skipIf(unavailable !== null).each([
  { wal: false, label: 'WAL off' },
  { wal: true, label: 'WAL on' },
])(`a full data disk ($label)${unavailable === null ? '' : ` [skipped: ${unavailable}]`}`, ({ wal }) => {
  let disk: Tmpfs | null = null;
  const servers: ArcProcess[] = [];
  afterAll(async () => {
    for (const server of servers) await server.kill();
    disk?.unmount();
  });

  it('answers 503 ARC_STORAGE_FULL while flushes fail, resumes when space is freed, and keeps every 204', async () => {
    disk = mountTmpfs(TMPFS_MB);
    const dataDir = `${disk.directory}/data`;
    await mkdir(dataDir);
    const env = { ARC_WRITER_THREADS: '1', ARC_WRITER_FLUSH_AGE_MS: String(FLUSH_AGE_MS), ARC_WAL_ENABLED: String(wal) };
    const first = await startArc(env, dataDir);
    servers.push(first);
    const client = new ArcClient(first.url);
    const ledger = new Ledger();
    for (let request = 0; request < 3; request++) expect((await ledger.write(client)).status).toBe(204);

    await disk.fill();
    // Several clients at once, as in the field. Rows accepted before the first failed flush are
    // buffered (and kept); then every client's writes are refused.
    await Promise.all(Array.from({ length: CLIENTS }, () => ledger.writeUntil(client, 503, REFUSAL_DEADLINE_MS)));
    // Refused at once, not after buffering: the next write is refused too.
    expectStorageFull(await client.write(requestBody(1_000_000)));

    await disk.free();
    disk.grow(TMPFS_MB * 2);
    await ledger.writeUntil(client, 204, RESUME_DEADLINE_MS);
    expect((await ledger.write(client)).status).toBe(204);

    await expectCleanStop(first);
    expect(first.output()).toMatch(/stopped; every buffer flushed/);
    // With the WAL on, the log's append can be the first to meet the full disk.
    if (!wal) expect(first.output()).toMatch(/data disk is full: new writes are refused/);
    const second = await startArc(env, dataDir);
    servers.push(second);
    const again = new ArcClient(second.url);
    expect(await again.rows('SELECT count(*), count(DISTINCT id), sum(id) FROM filled')).toEqual([ledger.expected()]);
    await expectCleanStop(second);
  }, 180_000);
});
