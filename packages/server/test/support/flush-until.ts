import { expect } from 'vitest';
import { pollUntil } from '../../../../test/support/poll-until.js';
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
  // Retry interval under FLUSH_DEADLINE_MS (see above): no answer tells when late rows arrived.
  await pollUntil(
    `${database}.${measurement} holds ${String(rowCount)} rows after a flush`,
    FLUSH_DEADLINE_MS,
    async () => {
      expect((await client.flush()).status).toBe(200);
      const answer = await client.query(`SELECT count(*) FROM "${measurement}"`, database);
      return answer.status === 200 ? (answer.json() as { data: unknown[][] }).data[0]?.[0] : `status ${String(answer.status)}`;
    },
    (seen) => seen === rowCount,
    FLUSH_RETRY_MS,
  );
}
