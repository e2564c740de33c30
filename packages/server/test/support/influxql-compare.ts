import { expectCleanStopAndRemove } from './clean-stop.js';
import { afterAll, beforeAll, expect } from 'vitest';
import { ArcClient } from './arc-client.js';
import { TEST_TOKEN, startArc, type ArcProcess } from './arc-process.js';
import { flushUntil } from './flush-until.js';
import { startInfluxd, type InfluxdProcess } from './influxd-process.js';
import { telegrafLines } from './telegraf-lines.js';

const DATABASE = 'telegraf';
const auth = { Authorization: `Token ${TEST_TOKEN}` };
/** Starting both servers and loading both (they start side by side, within each one's own deadline). */
const SETUP_TIMEOUT_MS = 120_000;

/**
 * Rounds the values of the named columns to 12 significant digits in an InfluxDB JSON answer:
 * for the one documented difference (docs/influxql.md) where Arc's floating-point summation
 * order differs from InfluxDB's in the last digits (stddev). Everything else compares exactly.
 */
export function roundColumns(answer: unknown, columns: readonly string[]): unknown {
  const results = (answer as { results?: { series?: { columns: string[]; values?: unknown[][] }[] }[] }).results ?? [];
  for (const series of results.flatMap((result) => result.series ?? [])) {
    const indexes = series.columns.flatMap((name, index) => (columns.includes(name) ? [index] : []));
    for (const row of series.values ?? []) {
      for (const index of indexes) {
        const value = row[index];
        if (typeof value === 'number') row[index] = Number(value.toPrecision(12));
      }
    }
  }
  return answer;
}

export interface Answers {
  readonly arc: unknown;
  readonly influx: unknown;
}

/**
 * Writes the same line protocol (second precision) to influxd and to Arc, then waits until Arc has
 * flushed `counts` rows of each measurement, so both answer from the same points.
 */
export async function loadBoth(client: ArcClient, influxd: InfluxdProcess, database: string, lines: string, counts: Readonly<Record<string, number>>): Promise<void> {
  await influxd.write(database, lines, 's');
  const write = await client.post(`/write?db=${database}&precision=s`, lines, auth);
  expect(write.status, write.text).toBe(204);
  for (const [measurement, count] of Object.entries(counts)) await flushUntil(client, database, measurement, count);
}

async function load(client: ArcClient, influxd: InfluxdProcess): Promise<void> {
  const { lines, counts } = telegrafLines();
  await loadBoth(client, influxd, DATABASE, lines, counts);
}

/**
 * One Arc and one influxd for a test file, started side by side and both loaded once with the
 * same Telegraf-like line protocol (support/telegraf-lines.ts) before the first test; `both(q)`
 * runs a query on each and returns the parsed JSON answers. Arc's SIGTERM exit code is checked
 * after the last test (0: every buffer flushed).
 */
export function useComparison(): { both(q: string, parameters?: Record<string, string>): Promise<Answers> } {
  let arc: ArcProcess | null = null;
  let client: ArcClient | null = null;
  let influxd: InfluxdProcess | null = null;
  beforeAll(async () => {
    const [started, reference] = await Promise.allSettled([startArc({ ARC_WRITER_FLUSH_AGE_MS: '600000' }), startInfluxd()]);
    if (started.status === 'fulfilled') arc = started.value;
    if (reference.status === 'fulfilled') influxd = reference.value;
    if (started.status === 'rejected') throw started.reason;
    if (reference.status === 'rejected') throw reference.reason;
    client = new ArcClient(started.value.url);
    await load(client, reference.value);
  }, SETUP_TIMEOUT_MS);
  afterAll(async () => {
    await influxd?.stop();
    if (arc === null) return;
    await expectCleanStopAndRemove(arc);
  });
  return {
    async both(q, parameters = {}) {
      if (client === null || influxd === null) throw new Error('the servers are not started yet');
      const search = new URLSearchParams({ db: DATABASE, ...parameters, q });
      const answer = await client.get(`/query?${search.toString()}`, auth);
      const influx = await influxd.query(q, { db: DATABASE, ...parameters });
      return { arc: JSON.parse(answer.text) as unknown, influx: influx.body };
    },
  };
}
