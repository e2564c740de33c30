import { expect } from 'vitest';
import { TEST_TOKEN } from './arc-process.js';
import { flushUntil } from './flush-until.js';
import { useInfluxd } from './influxd-process.js';
import { useSharedArc } from './shared-arc.js';
import { telegrafLines } from './telegraf-lines.js';

const DATABASE = 'telegraf';
const auth = { Authorization: `Token ${TEST_TOKEN}` };

export interface Answers {
  readonly arc: unknown;
  readonly influx: unknown;
}

/**
 * One Arc and one influxd for a test file, both loaded once with the same Telegraf-like line
 * protocol (support/telegraf-lines.ts); `both(q)` runs a query on each and returns the parsed JSON.
 */
export function useComparison(): { both(q: string, parameters?: Record<string, string>): Promise<Answers> } {
  const shared = useSharedArc({ ARC_WRITER_FLUSH_AGE_MS: '600000' });
  const reference = useInfluxd();
  let loaded: Promise<void> | null = null;
  const load = async (): Promise<void> => {
    const { lines, counts } = telegrafLines();
    await reference.influxd.write(DATABASE, lines, 's');
    const write = await shared.client.post(`/write?db=${DATABASE}&precision=s`, lines, auth);
    expect(write.status, write.text).toBe(204);
    for (const [measurement, count] of Object.entries(counts)) await flushUntil(shared.client, DATABASE, measurement, count);
  };
  return {
    async both(q, parameters = {}) {
      loaded ??= load();
      await loaded;
      const search = new URLSearchParams({ db: DATABASE, ...parameters, q });
      const arc = await shared.client.get(`/query?${search.toString()}`, auth);
      const influx = await reference.influxd.query(q, { db: DATABASE, ...parameters });
      return { arc: JSON.parse(arc.text) as unknown, influx: influx.body };
    },
  };
}
