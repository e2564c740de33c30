import { expect } from 'vitest';
import type { ArcClient } from './arc-client.js';

const FLUSH_DEADLINE_MS = 20_000;
const FLUSH_RETRY_MS = 50;

/**
 * Flushes until `SELECT count(*) FROM <measurement>` in `database` answers `rowCount`, with a
 * deadline. One POST /write/flush should do; it is repeated because a flush can answer before the
 * rows of an already acknowledged write reach their writer (seen 1 time in 30 with two writers,
 * reported to the pipeline's owner); the rows then land with the next flush.
 */
export async function flushUntil(client: ArcClient, database: string, measurement: string, rowCount: number): Promise<void> {
  const deadline = Date.now() + FLUSH_DEADLINE_MS;
  let seen: unknown = null;
  while (Date.now() < deadline) {
    expect((await client.flush()).status).toBe(200);
    const answer = await client.query(`SELECT count(*) FROM "${measurement}"`, database);
    if (answer.status === 200) {
      seen = (answer.json() as { data: unknown[][] }).data[0]?.[0];
      if (seen === rowCount) return;
    }
    // Retry interval under FLUSH_DEADLINE_MS (see above): no answer tells when late rows arrived.
    await new Promise((resolve) => setTimeout(resolve, FLUSH_RETRY_MS));
  }
  throw new Error(`${database}.${measurement} has ${String(seen)} rows after flushing for ${String(FLUSH_DEADLINE_MS)} ms, expected ${String(rowCount)}`);
}
