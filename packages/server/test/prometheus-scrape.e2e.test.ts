// Proves a real Prometheus (Debian's, scripts/prometheus.sh; skipped without it) can scrape Arc's
// GET /metrics with a bearer token: Arc and Prometheus are started, rows are written over MessagePack
// and line protocol, and Prometheus' own HTTP API (/api/v1/query) answers `up` = 1 for Arc and
// arc_ingest_rows_total / arc_ingest_requests_total equal to exactly what was written, per protocol
// and database.
import { expectCleanStopAndRemove } from './support/clean-stop.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArcClient, msgpack } from './support/arc-client.js';
import { startArc, TEST_TOKEN, type ArcProcess } from './support/arc-process.js';
import { NO_PROMETHEUS_REASON, prometheusInstalled, startPrometheus, type PrometheusProcess } from './support/prometheus-process.js';
import { pollUntil } from '../../../test/support/poll-until.js';

const installed = prometheusInstalled();
if (!installed) console.warn(`Prometheus scrape test skipped: ${NO_PROMETHEUS_REASON}`);
/** Prometheus applies a new target list within 5 s, then scrapes every second; the rest is margin for a loaded machine. */
const SCRAPED_MS = 45_000;
const POLL_MS = 250;
const MSGPACK_DATABASE = 'prom_msgpack';
const LP_DATABASE = 'prom_lp';
const T0_MS = 1_760_630_400_000;

describe.skipIf(!installed)('Prometheus scraping Arc', () => {
  let arc: ArcProcess | null = null;
  let prometheus: PrometheusProcess | null = null;
  let client: ArcClient;
  beforeAll(async () => {
    arc = await startArc();
    client = new ArcClient(arc.url);
    prometheus = await startPrometheus(new URL(arc.url).host, TEST_TOKEN);
  });
  afterAll(async () => {
    prometheus?.stop();
    if (arc === null) return;
    await expectCleanStopAndRemove(arc);
  });

  /** The one value `promql` evaluates to once Prometheus has it, or null while it has none. */
  async function single(promql: string): Promise<number | null> {
    const samples = await (prometheus as PrometheusProcess).query(promql);
    if (samples.length > 1) throw new Error(`${promql}: expected one sample, got ${JSON.stringify(samples)}`);
    return samples[0]?.value ?? null;
  }

  async function scrapedValue(promql: string, expected: number): Promise<number | null> {
    const outcome = await pollUntil(`Prometheus answers ${promql} = ${String(expected)}`, SCRAPED_MS, () => single(promql), (value) => value === expected, POLL_MS).catch(
      async (error: unknown) => {
        const targets = await (prometheus as PrometheusProcess).targets();
        throw new Error(`${(error as Error).message}; targets: ${JSON.stringify(targets)}`, { cause: error });
      },
    );
    return outcome.value;
  }

  it('scrapes Arc with the bearer token: up is 1 and the target is healthy', async () => {
    expect(await scrapedValue('up{job="arc"}', 1)).toBe(1);
    const targets = await (prometheus as PrometheusProcess).targets();
    expect(targets).toHaveLength(1);
    expect(targets[0]).toMatchObject({ health: 'up', lastError: '', scrapeUrl: `${(arc as ArcProcess).url}/metrics` });
  });

  it('reads back through Prometheus exactly the rows and requests written, per protocol and database', async () => {
    const batches = [3, 17, 250];
    let next = 0;
    for (const rows of batches) {
      const ids = Array.from({ length: rows }, () => next++);
      const answer = await client.write(msgpack({ m: 'cpu', columns: { time: ids.map((id) => T0_MS + id), host: ids.map((id) => `h${String(id % 4)}`), usage: ids } }), {
        database: MSGPACK_DATABASE,
      });
      expect(answer.status, answer.text).toBe(204);
    }
    const lines = Array.from({ length: 41 }, (_, i) => `mem,host=h${String(i % 3)} used=${String(i)}i ${String(T0_MS + i)}`).join('\n');
    const lp = await client.post(`/write?db=${LP_DATABASE}&precision=ms`, lines, client.authHeaders());
    expect(lp.status, lp.text).toBe(204);

    const rowsWritten = batches.reduce((sum, rows) => sum + rows, 0);
    expect(await scrapedValue(`arc_ingest_rows_total{protocol="msgpack",database="${MSGPACK_DATABASE}"}`, rowsWritten)).toBe(rowsWritten);
    expect(await scrapedValue(`arc_ingest_requests_total{protocol="msgpack",database="${MSGPACK_DATABASE}"}`, batches.length)).toBe(batches.length);
    expect(await scrapedValue(`arc_ingest_rows_total{protocol="line_protocol",database="${LP_DATABASE}"}`, 41)).toBe(41);
    // No row of one database is counted under the other.
    expect(await single(`arc_ingest_rows_total{protocol="line_protocol",database="${MSGPACK_DATABASE}"}`)).toBeNull();
    expect(await single(`sum(arc_ingest_rows_total{database=~"${MSGPACK_DATABASE}|${LP_DATABASE}"})`)).toBe(rowsWritten + 41);
  });
});
