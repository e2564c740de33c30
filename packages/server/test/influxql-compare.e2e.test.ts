// Proves InfluxQL answers match the real InfluxDB 1.6 server's: the same line protocol is written to
// Arc and to a local influxd, the same queries run on both, and the JSON answers are compared whole.
import { describe, expect, it } from 'vitest';
import { TEST_TOKEN } from './support/arc-process.js';
import { flushUntil } from './support/flush-until.js';
import { influxdAvailable, useInfluxd } from './support/influxd-process.js';
import { useSharedArc } from './support/shared-arc.js';

const DATABASE = 'compare';
const T0 = 1_700_000_000; // seconds
const LINES = [
  `cpu,host=a,region=us usage_idle=90.5,usage_user=5i ${T0}`,
  `cpu,host=b,region=eu usage_idle=80.5,usage_user=15i ${T0 + 10}`,
  `cpu,host=a,region=us usage_idle=70.5,usage_user=25i ${T0 + 20}`,
  `cpu,host=b,region=eu usage_idle=60.5,usage_user=35i ${T0 + 40}`,
].join('\n');

const available = influxdAvailable();
const auth = { Authorization: `Token ${TEST_TOKEN}` };

describe.skipIf(!available)('InfluxQL against InfluxDB 1.6', () => {
  const shared = useSharedArc({ ARC_WRITER_FLUSH_AGE_MS: '600000' });
  const reference = useInfluxd();
  let written = false;

  async function ensureData(): Promise<void> {
    if (written) return;
    await reference.influxd.write(DATABASE, LINES, 's');
    const write = await shared.client.post(`/write?db=${DATABASE}&precision=s`, LINES, auth);
    expect(write.status, write.text).toBe(204);
    await flushUntil(shared.client, DATABASE, 'cpu', 4);
    written = true;
  }

  async function both(q: string): Promise<{ arc: unknown; influx: unknown }> {
    await ensureData();
    const search = new URLSearchParams({ db: DATABASE, q });
    const arc = await shared.client.get(`/query?${search.toString()}`, auth);
    const influx = await reference.influxd.query(q, { db: DATABASE });
    return { arc: JSON.parse(arc.text) as unknown, influx: influx.body };
  }

  it.each([
    'SELECT usage_idle FROM cpu',
    'SELECT mean(usage_idle) FROM cpu',
    'SELECT max(usage_user) FROM cpu GROUP BY host',
  ])('%s', async (q) => {
    const { arc, influx } = await both(q);
    expect(arc).toEqual(influx);
  });
});
