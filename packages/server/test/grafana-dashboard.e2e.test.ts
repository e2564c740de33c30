// Proves docs/grafana/arc-dashboard.json is an importable Grafana 10 dashboard that names only series
// Arc serves: it is parsed and its shape checked (Prometheus data-source variable, every panel on
// it); each metric name in its PromQL is one of Arc's agreed series in its agreed form (labels it
// has, counters and histogram parts only under rate/increase, quantiles over `le`); each is found
// in a live Arc's GET /metrics after some traffic; and, with Prometheus installed, a real Prometheus
// scraping that Arc evaluates every expression without error, each panel but compaction's with data.
import { expectCleanStopAndRemove } from './support/clean-stop.js';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArcClient, msgpack } from './support/arc-client.js';
import { startArc, TEST_TOKEN, type ArcProcess } from './support/arc-process.js';
import { NO_PROMETHEUS_REASON, prometheusInstalled, startPrometheus, type PrometheusProcess } from './support/prometheus-process.js';
import { waitUntil } from '../../../test/support/poll-until.js';

const DASHBOARD_FILE = fileURLToPath(new URL('../../../docs/grafana/arc-dashboard.json', import.meta.url));

type MetricType = 'counter' | 'gauge' | 'histogram';

/** Arc's series as agreed for /metrics: type and the only labels each carries. */
const ARC_SERIES: Readonly<Record<string, { type: MetricType; labels: readonly string[] }>> = {
  arc_build_info: { type: 'gauge', labels: ['version', 'node'] },
  arc_uptime_seconds: { type: 'gauge', labels: [] },
  arc_http_requests_total: { type: 'counter', labels: ['route', 'method', 'status'] },
  arc_http_request_duration_seconds: { type: 'histogram', labels: ['route', 'method'] },
  arc_ingest_requests_total: { type: 'counter', labels: ['protocol', 'database'] },
  arc_ingest_rows_total: { type: 'counter', labels: ['protocol', 'database'] },
  arc_ingest_bytes_total: { type: 'counter', labels: ['protocol', 'database'] },
  arc_ingest_rejects_total: { type: 'counter', labels: ['reason'] },
  arc_ingest_ring_used_ratio: { type: 'gauge', labels: ['ring'] },
  arc_ingest_overload_responses_total: { type: 'counter', labels: [] },
  arc_writer_buffered_rows: { type: 'gauge', labels: ['writer'] },
  arc_writer_buffered_bytes: { type: 'gauge', labels: ['writer'] },
  arc_writer_flushes_total: { type: 'counter', labels: ['writer'] },
  arc_writer_flush_duration_seconds: { type: 'histogram', labels: [] },
  arc_writer_file_size_bytes: { type: 'histogram', labels: [] },
  arc_wal_bytes_total: { type: 'counter', labels: [] },
  arc_wal_syncs_total: { type: 'counter', labels: [] },
  arc_wal_sync_duration_seconds: { type: 'histogram', labels: [] },
  arc_query_requests_total: { type: 'counter', labels: ['language'] },
  arc_query_duration_seconds: { type: 'histogram', labels: ['language'] },
  arc_query_errors_total: { type: 'counter', labels: ['code'] },
  arc_query_rows_returned_total: { type: 'counter', labels: [] },
  arc_query_queue_depth: { type: 'gauge', labels: [] },
  arc_query_running: { type: 'gauge', labels: [] },
  arc_query_cache_hits_total: { type: 'counter', labels: [] },
  arc_query_cache_misses_total: { type: 'counter', labels: [] },
  arc_compaction_jobs_total: { type: 'counter', labels: ['result'] },
  arc_compaction_bytes_read_total: { type: 'counter', labels: [] },
  arc_compaction_bytes_written_total: { type: 'counter', labels: [] },
  arc_auth_failures_total: { type: 'counter', labels: ['reason'] },
  arc_event_loop_lag_seconds: { type: 'gauge', labels: ['thread'] },
  arc_duckdb_memory_bytes: { type: 'gauge', labels: ['thread'] },
  // prom-client's default metrics of the main thread that the dashboard uses.
  process_resident_memory_bytes: { type: 'gauge', labels: [] },
  process_cpu_seconds_total: { type: 'counter', labels: [] },
  nodejs_heap_size_used_bytes: { type: 'gauge', labels: [] },
  nodejs_external_memory_bytes: { type: 'gauge', labels: [] },
};
/** Series Prometheus itself adds to every target; they are never in Arc's answer. */
const PROMETHEUS_SERIES = new Set(['up']);
/** Labels Prometheus attaches to every scraped series, and the bucket bound of histogram parts. */
const TARGET_LABELS = ['instance', 'job'];
const HISTOGRAM_PARTS = ['_bucket', '_sum', '_count'] as const;
const RATE_FUNCTIONS = new Set(['rate', 'irate', 'increase']);
const AGGREGATIONS = /\b(?:sum|max|min|avg|count) by \(([^)]*)\)\s*\(/g;
/** What Grafana puts for the dashboard's variables when it runs a panel's query. */
const GRAFANA_VARIABLES: Readonly<Record<string, string>> = { $instance: '.*', $__rate_interval: '1m' };

interface Target {
  readonly expr: string;
  readonly legendFormat?: string;
  readonly datasource?: { type: string; uid: string };
}
interface Panel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly gridPos: { h: number; w: number; x: number; y: number };
  readonly datasource?: { type: string; uid: string };
  readonly targets?: readonly Target[];
}
interface Variable {
  readonly name: string;
  readonly type: string;
  readonly query: string | { query: string };
  readonly datasource?: { type: string; uid: string };
}
interface Dashboard {
  readonly schemaVersion: number;
  readonly uid: string;
  readonly title: string;
  readonly panels: readonly Panel[];
  readonly templating: { list: readonly Variable[] };
}

const dashboard = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as Dashboard;
const queryPanels = dashboard.panels.filter((panel) => panel.type !== 'row');

/** Every PromQL expression: the panels' targets and the query variables' queries. */
function expressions(): { where: string; expr: string; legend: string }[] {
  const fromPanels = queryPanels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ where: `panel "${panel.title}"`, expr: target.expr, legend: target.legendFormat ?? '' })));
  const fromVariables = dashboard.templating.list
    .filter((variable) => variable.type === 'query')
    .map((variable) => ({ where: `variable $${variable.name}`, expr: typeof variable.query === 'string' ? variable.query : variable.query.query, legend: '' }));
  return [...fromPanels, ...fromVariables];
}

/** The expression with its string literals emptied, so no label value is read as a name. */
const withoutStrings = (expr: string): string => expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');

interface NameUse {
  readonly name: string;
  readonly index: number;
}

function metricNames(expr: string): NameUse[] {
  const code = withoutStrings(expr);
  const uses: NameUse[] = [];
  for (const match of code.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const name = match[0];
    if (/^(arc|process|nodejs)_/.test(name) || PROMETHEUS_SERIES.has(name)) uses.push({ name, index: match.index });
  }
  return uses;
}

/** The series a sample name belongs to: a histogram's part names its histogram. */
function seriesOf(name: string): { series: string; part: string } {
  for (const part of HISTOGRAM_PARTS) {
    const base = name.slice(0, -part.length);
    if (name.endsWith(part) && ARC_SERIES[base]?.type === 'histogram') return { series: base, part };
  }
  return { series: name, part: '' };
}

/** The function whose argument list holds position `index` of `code` (nearest unclosed parenthesis). */
function enclosingFunction(code: string, index: number): string {
  let depth = 0;
  for (let i = index - 1; i >= 0; i--) {
    if (code[i] === ')') depth++;
    else if (code[i] === '(') {
      if (depth === 0) return /([a-z_]+)\s*$/.exec(code.slice(0, i))?.[1] ?? '';
      depth--;
    }
  }
  return '';
}

/** The text between the parenthesis at `open` and its match. */
function parenthesised(code: string, open: number): string {
  let depth = 0;
  for (let i = open; i < code.length; i++) {
    if (code[i] === '(') depth++;
    else if (code[i] === ')' && --depth === 0) return code.slice(open + 1, i);
  }
  throw new Error(`unbalanced parenthesis at ${String(open)} in ${code}`);
}

/** Problems with one expression: unknown names, wrong form, labels the series do not carry. */
function formProblems(where: string, expr: string, legend: string): string[] {
  const code = withoutStrings(expr);
  const problems: string[] = [];
  const allowedLabels = (series: readonly string[]): Set<string> =>
    new Set([...TARGET_LABELS, ...series.flatMap((name) => [...(ARC_SERIES[seriesOf(name).series]?.labels ?? []), ...(seriesOf(name).part === '_bucket' ? ['le'] : [])])]);
  const uses = metricNames(expr);
  for (const { name, index } of uses) {
    if (PROMETHEUS_SERIES.has(name)) continue;
    const { series, part } = seriesOf(name);
    const agreed = ARC_SERIES[series];
    if (agreed === undefined) {
      problems.push(`${where}: ${name} is not one of Arc's series`);
      continue;
    }
    if (agreed.type === 'histogram' && part === '') problems.push(`${where}: ${name} is a histogram; a query names its _bucket, _sum or _count`);
    const cumulative = agreed.type === 'counter' || part !== '';
    const inRate = RATE_FUNCTIONS.has(enclosingFunction(code, index));
    if (cumulative && !inRate) problems.push(`${where}: ${name} only grows; plot it under rate() or increase()`);
    if (!cumulative && inRate) problems.push(`${where}: ${name} is a gauge; rate() of it means nothing`);
    if (agreed.type === 'counter' && !name.endsWith('_total')) problems.push(`${where}: counter ${name} does not end in _total`);
    if (part === '_bucket' && !code.includes('histogram_quantile(')) problems.push(`${where}: ${name} is read without histogram_quantile`);
    // Label matchers right after the name: {label="..."}.
    const matchers = /^\{([^}]*)\}/.exec(code.slice(index + name.length))?.[1] ?? '';
    for (const label of matchers.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)) {
      if (!allowedLabels([name]).has(label[1] ?? '')) problems.push(`${where}: ${name} has no label ${label[1] ?? ''}`);
    }
  }
  // `by (labels)` of each aggregation: labels the series inside it carry.
  for (const match of code.matchAll(AGGREGATIONS)) {
    const inside = parenthesised(code, match.index + match[0].length - 1);
    const names = metricNames(inside).map((use) => use.name);
    const allowed = allowedLabels(names);
    for (const label of (match[1] ?? '').split(',').map((text) => text.trim())) {
      if (!allowed.has(label)) problems.push(`${where}: grouped by ${label}, which ${names.join(', ')} do not carry`);
    }
    if (/histogram_quantile\(\s*[\d.]+\s*,\s*$/.test(code.slice(0, match.index)) && !(match[1] ?? '').split(',').map((text) => text.trim()).includes('le')) {
      problems.push(`${where}: histogram_quantile over a sum that drops le`);
    }
  }
  // Legends name only labels the result keeps.
  for (const label of legend.matchAll(/\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g)) {
    if (!allowedLabels(uses.map((use) => use.name)).has(label[1] ?? '')) problems.push(`${where}: legend names ${label[1] ?? ''}, which its series do not carry`);
  }
  return problems;
}

describe('the Grafana dashboard (docs/grafana/arc-dashboard.json)', () => {
  it('is a Grafana 10 dashboard whose every panel queries the Prometheus data-source variable', () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(38);
    expect(dashboard.uid).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
    const datasource = dashboard.templating.list.find((variable) => variable.type === 'datasource');
    expect(datasource).toMatchObject({ name: 'datasource', query: 'prometheus' });
    const ids = dashboard.panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(queryPanels.length).toBeGreaterThanOrEqual(25);
    for (const panel of queryPanels) {
      expect(panel.datasource, panel.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(panel.targets?.length ?? 0, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) expect(target.datasource, panel.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24);
    }
  });

  it('covers what an operator watches: one panel or more per area', () => {
    const named = new Set(expressions().flatMap(({ expr }) => metricNames(expr).map((use) => seriesOf(use.name).series)));
    for (const series of Object.keys(ARC_SERIES)) expect(named.has(series), `${series} is on no panel`).toBe(true);
  });

  it('names only Arc series in their agreed form (labels they carry, counters under rate, quantiles over le)', () => {
    expect(expressions().flatMap(({ where, expr, legend }) => formProblems(where, expr, legend))).toEqual([]);
  });

  it('would catch a series Arc does not serve, a counter plotted raw, and a label a series lacks', () => {
    expect(formProblems('probe', 'rate(arc_ingest_points_total[1m])', '')).toEqual(['probe: arc_ingest_points_total is not one of Arc\'s series']);
    expect(formProblems('probe', 'arc_ingest_rows_total', '')).toHaveLength(1);
    expect(formProblems('probe', 'rate(arc_query_queue_depth[1m])', '')).toHaveLength(1);
    expect(formProblems('probe', 'sum by (route) (rate(arc_ingest_rows_total[1m]))', '{{route}}')).toHaveLength(2);
    expect(formProblems('probe', 'histogram_quantile(0.9, sum by (route) (rate(arc_http_request_duration_seconds_bucket[1m])))', '')).toHaveLength(1);
  });
});

describe('the dashboard against a live Arc', () => {
  let arc: ArcProcess | null = null;
  let metricsText = '';
  beforeAll(async () => {
    arc = await startArc();
    const client = new ArcClient(arc.url);
    // Traffic that touches each area, so labelled series have samples too.
    expect((await client.write(msgpack({ m: 'cpu', columns: { time: [1_760_630_400_000, 1_760_630_400_001], usage: [1, 2] } }), { database: 'dash' })).status).toBe(204);
    expect((await client.post('/write?db=dash&precision=s', 'mem,host=a used=1i 1760630400', client.authHeaders())).status).toBe(204);
    expect((await client.flush()).status).toBe(200);
    expect((await client.query('SELECT count(*) FROM cpu', 'dash')).status).toBe(200);
    expect((await client.query('SELECT nope FROM missing', 'dash')).status).toBeGreaterThanOrEqual(400);
    expect((await client.get('/query?db=dash&q=SELECT%20*%20FROM%20mem')).status).toBeLessThan(500);
    expect((await client.write(msgpack({ m: 'cpu', columns: { time: [1] } }), { database: 'dash', token: 'not-a-token' })).status).toBe(401);
    const answer = await client.get('/metrics', client.authHeaders());
    expect(answer.status, answer.text).toBe(200);
    metricsText = answer.text;
  });
  afterAll(async () => {
    if (arc === null) return;
    await expectCleanStopAndRemove(arc);
  });

  it('finds every series the dashboard names in GET /metrics, with the agreed type', () => {
    const types = new Map([...metricsText.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((match) => [match[1] ?? '', match[2] ?? '']));
    const samples = new Set([...metricsText.matchAll(/^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/gm)].map((match) => match[1] ?? ''));
    const missing: string[] = [];
    for (const { where, expr } of expressions()) {
      for (const { name } of metricNames(expr)) {
        if (PROMETHEUS_SERIES.has(name)) continue;
        const { series } = seriesOf(name);
        const type = types.get(series);
        if (type === undefined && !samples.has(name)) missing.push(`${where}: ${name}`);
        else if (type !== undefined && type !== ARC_SERIES[series]?.type) missing.push(`${where}: ${series} is a ${type}, agreed ${ARC_SERIES[series]?.type ?? '?'}`);
      }
    }
    expect(missing).toEqual([]);
  });

  describe.skipIf(!prometheusInstalled())('and a real Prometheus scraping it', () => {
    let prometheus: PrometheusProcess | null = null;
    beforeAll(async () => {
      prometheus = await startPrometheus(new URL((arc as ArcProcess).url).host, TEST_TOKEN);
    });
    afterAll(() => prometheus?.stop());

    it('evaluates every expression of the dashboard without error, and every panel but compaction\'s has data', async () => {
      const live = prometheus as PrometheusProcess;
      // rate() over a window needs two samples in it: three scrapes make every rate defined.
      await waitUntil('Prometheus has scraped Arc three times', 45_000, async () => ((await live.query('count_over_time(arc_uptime_seconds[1m])'))[0]?.value ?? 0) >= 3, 250);
      const empty: string[] = [];
      for (const { where, expr } of expressions()) {
        if (expr.startsWith('label_values(')) continue; // Grafana's variable function, not PromQL
        const promql = Object.entries(GRAFANA_VARIABLES).reduce((text, [variable, value]) => text.replaceAll(variable, value), expr);
        const samples = await live.query(promql).catch((error: unknown) => {
          throw new Error(`${where}: ${promql}: ${(error as Error).message}`, { cause: error });
        });
        if (samples.length === 0) empty.push(where);
      }
      // Every panel shows data after the traffic above, but compaction's (compaction is off in
      // tests, and its jobs series appears with its first job).
      expect(empty.filter((where) => !where.includes('Compaction jobs'))).toEqual([]);
    });
  });
});

if (!prometheusInstalled()) console.warn(`Grafana dashboard test: PromQL evaluation skipped: ${NO_PROMETHEUS_REASON}`);
