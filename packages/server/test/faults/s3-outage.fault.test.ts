// Proves that an object-store outage never loses or duplicates an acknowledged row, with the WAL
// off and on: a real server stores in the test S3 server (Ceph RGW, scripts/s3-server.sh), whose
// gateway this test stops mid-ingest. /health and /ready turn 503 naming the store, writes keep
// being accepted while the buffers hold them, then wait for a flush that cannot land and get 503
// ARC_INGEST_WAIT_TIMEOUT with Retry-After;
// once the gateway is back every flush lands, writes resume, and every row that got a 204 is read
// back exactly once, also after SIGTERM and a restart (the WAL replays nothing twice).
import { expectCleanStop } from '../support/clean-stop.js';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ArcClient, msgpack, type HttpAnswer } from '../support/arc-client.js';
import { startArc, type ArcProcess } from '../support/arc-process.js';
import { waitUntil } from '../../../../test/support/poll-until.js';
import { NO_S3_REASON, s3ServerEnv, testS3, uniquePrefix } from '../../../../test/support/s3-test-env.js';
import { printFigures } from './support/fault-kit.js';

const S3_SERVER_SCRIPT = fileURLToPath(new URL('../../../../scripts/s3-server.sh', import.meta.url));
const ROWS_PER_REQUEST = 1000;
const FLUSH_AGE_MS = 200;
const HEALTH_DEADLINE_MS = 20_000;
const REFUSAL_DEADLINE_MS = 60_000;
/** The gateway takes seconds to start; a writer's retry backs off up to 10 s on top. */
const RESUME_DEADLINE_MS = 90_000;
const POLL_MS = 50;
const T0_MS = 1_760_000_000_000;

const s3 = testS3();
if (s3 === null) console.warn(`S3 outage fault test skipped: ${NO_S3_REASON}`);

function gateway(action: 'stop-gateway' | 'start-gateway'): void {
  execFileSync('bash', [S3_SERVER_SCRIPT, action], { stdio: 'inherit', timeout: 120_000 });
}

/** Request `index` holds ids index*ROWS_PER_REQUEST .. +ROWS_PER_REQUEST-1, one row each. */
function requestBody(index: number): Uint8Array {
  const ids = Array.from({ length: ROWS_PER_REQUEST }, (_, row) => index * ROWS_PER_REQUEST + row);
  return msgpack({ m: 'outage', columns: { time: ids.map((id) => T0_MS + id), id: ids, pad: ids.map((id) => `row-${id}-${'x'.repeat(60)}`) } });
}

class Ledger {
  readonly acknowledged: number[] = [];
  refused = 0;
  private next = 0;

  async write(client: ArcClient): Promise<HttpAnswer> {
    const index = this.next++;
    const answer = await client.write(requestBody(index));
    if (answer.status === 204) this.acknowledged.push(index);
    else {
      // The only refusal an outage may cause: waited too long for full buffers, with Retry-After. Never a drop.
      expect(answer.status, answer.text).toBe(503);
      expect((answer.json() as { code: unknown }).code).toBe('ARC_INGEST_WAIT_TIMEOUT');
      expect(answer.headers.get('retry-after')).toBe('1');
      this.refused++;
    }
    return answer;
  }

  async writeUntil(client: ArcClient, status: number, deadlineMs: number): Promise<void> {
    // Poll interval under the deadline: the answer to a write is the only signal of the change.
    await waitUntil(`a write answered ${String(status)}`, deadlineMs, async () => (await this.write(client)).status === status, POLL_MS);
  }

  expected(): [number, number, number] {
    let sum = 0;
    for (const index of this.acknowledged) for (let row = 0; row < ROWS_PER_REQUEST; row++) sum += index * ROWS_PER_REQUEST + row;
    const count = this.acknowledged.length * ROWS_PER_REQUEST;
    return [count, count, sum];
  }
}

async function readBack(client: ArcClient): Promise<unknown[]> {
  const rows = await client.rows('SELECT count(*), count(DISTINCT id), sum(id) FROM outage');
  return (rows[0] ?? []).map((value) => Number(value));
}

describe.skipIf(s3 === null).each([
  { wal: false, label: 'WAL off' },
  { wal: true, label: 'WAL on' },
])('an object-store outage mid-ingest ($label)', ({ wal }) => {
  const servers: ArcProcess[] = [];
  afterAll(async () => {
    gateway('start-gateway');
    for (const server of servers) await server.kill();
    for (const server of servers) await server.cleanup();
  });

  it('keeps every acknowledged row, refuses only with 503 when buffers are full, and lands all of it once the store is back', async () => {
    if (s3 === null) return;
    const env = {
      ...s3ServerEnv(s3, uniquePrefix(`outage-${wal ? 'wal' : 'nowal'}`)),
      ARC_WAL_ENABLED: String(wal),
      ARC_WRITER_FLUSH_AGE_MS: String(FLUSH_AGE_MS),
      ARC_WRITER_BUFFER_MAX_MB: '4',
      ARC_WRITER_FLUSH_BYTES_MB: '1',
      // A write waits for room at most this long: during the outage no flush makes any.
      ARC_INGEST_WAIT_MAX_MS: '500',
    };
    const first = await startArc(env);
    servers.push(first);
    const client = new ArcClient(first.url);
    const ledger = new Ledger();
    for (let request = 0; request < 5; request++) expect((await ledger.write(client)).status).toBe(204);
    const startedAt = performance.now();
    gateway('stop-gateway');
    // A dead store shows on /health and /ready (the probe runs every 5 s).
    await waitUntil('/health answers 503', HEALTH_DEADLINE_MS, async () => (await fetch(`${first.url}/health`)).status === 503, POLL_MS);
    const health = (await (await fetch(`${first.url}/health`)).json()) as { status: string; storage: { reachable: boolean; error?: string } };
    expect(health.status).toBe('unhealthy');
    expect(health.storage.reachable).toBe(false);
    expect(health.storage.error).toMatch(/ECONNREFUSED|unavailable|failed/i);
    expect((await fetch(`${first.url}/ready`)).status).toBe(503);
    // Writes are taken while buffers hold them, then refused, never dropped.
    await ledger.writeUntil(client, 503, REFUSAL_DEADLINE_MS);
    const acknowledgedDuringOutage = ledger.acknowledged.length - 5;
    gateway('start-gateway');
    await ledger.writeUntil(client, 204, RESUME_DEADLINE_MS);
    const [count, distinct, sum] = ledger.expected();
    await waitUntil('every acknowledged row is queryable', RESUME_DEADLINE_MS, async () => {
      await client.flush();
      const [seen] = await readBack(client);
      return seen === count;
    }, 200);
    expect(await readBack(client)).toEqual([count, distinct, sum]);
    // The probe runs every 5 s: green again at its next run.
    await waitUntil('/health answers 200 again', HEALTH_DEADLINE_MS, async () => (await fetch(`${first.url}/health`)).status === 200, POLL_MS);
    const recoveredMs = Math.round(performance.now() - startedAt);
    // After a stop and a start over the same bucket (and WAL): still each row once.
    await expectCleanStop(first);
    const second = await startArc(env, first.dataDir);
    servers.push(second);
    expect(await readBack(new ArcClient(second.url))).toEqual([count, distinct, sum]);
    printFigures(`s3-outage-${wal ? 'wal' : 'nowal'}`, { acknowledged_requests: ledger.acknowledged.length, acknowledged_during_outage: acknowledgedDuringOutage, refused_503: ledger.refused, rows: count, recovered_ms: recoveredMs });
  });
});
