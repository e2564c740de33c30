// An ImportSink over a running Arc's HTTP API, for the runner's tests: writes are line protocol
// writes (POST /api/v1/write), flushes POST /write/flush, counts are SQL through POST /query, so
// what a test asserts is what a client of that server reads back.
import type { ImportSink, SinkWriteResult } from '../../src/job-runner.js';
import { TEST_TOKEN } from '../../../server/test/support/arc-process.js';

const headers = { Authorization: `Bearer ${TEST_TOKEN}` };
const microseconds = (ns: bigint): bigint => (ns >= 0n ? ns / 1000n : -((-ns + 999n) / 1000n));

export class ArcHttpSink implements ImportSink {
  readonly url: string;
  writes = 0;

  constructor(url: string) {
    this.url = url;
  }

  async write(database: string, body: Uint8Array): Promise<SinkWriteResult> {
    this.writes += 1;
    const answer = await fetch(`${this.url}/api/v1/write?db=${encodeURIComponent(database)}&precision=ns`, { method: 'POST', headers, body });
    if (answer.status !== 204) throw new Error(`write answered ${String(answer.status)}: ${await answer.text()}`);
    const rows = Buffer.from(body).toString('utf8').split('\n').filter((line) => line !== '').length;
    return { rows, rejected: 0 };
  }

  async flush(): Promise<void> {
    const answer = await fetch(`${this.url}/write/flush`, { method: 'POST', headers });
    if (answer.status !== 200) throw new Error(`flush answered ${String(answer.status)}`);
  }

  async countRows(database: string, measurements: readonly string[], minTimeNs: bigint, maxTimeNs: bigint): Promise<number> {
    let total = 0;
    for (const measurement of measurements) {
      const sql = `SELECT count(*) FROM "${measurement}" WHERE time BETWEEN make_timestamp(${microseconds(minTimeNs).toString()}) AND make_timestamp(${microseconds(maxTimeNs).toString()})`;
      total += await this.count(database, sql);
    }
    return total;
  }

  /** Every row of a measurement (0 when it does not exist yet). */
  async countAll(database: string, measurement: string): Promise<number> {
    return this.count(database, `SELECT count(*) FROM "${measurement}"`);
  }

  private async count(database: string, sql: string): Promise<number> {
    const answer = await fetch(`${this.url}/query`, { method: 'POST', headers: { ...headers, 'Content-Type': 'application/json', 'x-arc-database': database }, body: JSON.stringify({ sql, format: 'json' }) });
    const text = await answer.text();
    if (answer.status !== 200) {
      if (text.includes('ARC_QUERY_UNKNOWN_TABLE')) return 0;
      throw new Error(`count answered ${String(answer.status)}: ${text}`);
    }
    return Number((JSON.parse(text) as { data: unknown[][] }).data[0]?.[0]);
  }
}
