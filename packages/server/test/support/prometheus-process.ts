import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './arc-process.js';

/**
 * A real Prometheus scraping one Arc, through scripts/prometheus.sh (Debian's `prometheus`, run as
 * a process of its own on a free port). Tests that need it skip, saying so, when make test did not
 * export ARC_TEST_PROMETHEUS_BIN (`scripts/prometheus.sh env`).
 */
const SCRIPT = fileURLToPath(new URL('../../../../scripts/prometheus.sh', import.meta.url));

export const NO_PROMETHEUS_REASON =
  'no Prometheus: run `bash scripts/prometheus.sh install` and export `bash scripts/prometheus.sh env` (make test does)';

export function prometheusInstalled(): boolean {
  return (process.env.ARC_TEST_PROMETHEUS_BIN ?? '') !== '';
}

/** One sample of an instant vector: its labels and value (Prometheus sends values as strings). */
export interface PromSample {
  readonly metric: Record<string, string>;
  readonly value: number;
}

export interface PrometheusProcess {
  readonly url: string;
  /** GET /api/v1/query: the instant vector `promql` evaluates to now (fails on any API error). */
  query(promql: string): Promise<PromSample[]>;
  /** GET /api/v1/targets: health and last error of each active target. */
  targets(): Promise<{ health: string; lastError: string; scrapeUrl: string }[]>;
  stop(): void;
}

function script(args: string[], port = 0): string {
  const run = spawnSync('bash', [SCRIPT, ...args], { encoding: 'utf8', env: { ...process.env, ARC_PROMETHEUS_PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
  if (run.status !== 0) throw new Error(`scripts/prometheus.sh ${args[0] ?? ''} failed (${String(run.status)}):\n${run.stdout}${run.stderr}`);
  return run.stdout;
}

async function api(url: string, pathAndQuery: string): Promise<unknown> {
  const response = await fetch(`${url}${pathAndQuery}`);
  const body = (await response.json()) as { status: string; data?: unknown; error?: string };
  if (response.status !== 200 || body.status !== 'success') throw new Error(`Prometheus ${pathAndQuery}: ${String(response.status)} ${JSON.stringify(body)}`);
  return body.data;
}

/**
 * Starts Prometheus scraping http://`target`/metrics every second, with `Authorization: Bearer
 * <token>` from a file only the test user reads; resolves once Prometheus is ready (the first
 * scrape comes within about 5 s: Prometheus applies a new target list at most that often).
 */
export async function startPrometheus(target: string, token: string): Promise<PrometheusProcess> {
  const directory = mkdtempSync(path.join(tmpdir(), 'arc-prom-'));
  const tokenFile = path.join(directory, 'token');
  writeFileSync(tokenFile, token);
  chmodSync(tokenFile, 0o600);
  const prometheusDir = path.join(directory, 'prometheus');
  // A port the system just handed out: test files starting Prometheus in parallel never share one.
  script(['start', prometheusDir, target, tokenFile], await freePort());
  const url = /^export ARC_TEST_PROMETHEUS_URL=(\S+)$/m.exec(script(['env', prometheusDir]))?.[1];
  if (url === undefined) throw new Error('scripts/prometheus.sh env printed no ARC_TEST_PROMETHEUS_URL');
  return {
    url,
    query: async (promql) => {
      const data = (await api(url, `/api/v1/query?query=${encodeURIComponent(promql)}`)) as { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
      if (data.resultType !== 'vector') throw new Error(`${promql}: expected a vector, got ${data.resultType}`);
      return data.result.map((sample) => ({ metric: sample.metric, value: Number(sample.value[1]) }));
    },
    targets: async () => ((await api(url, '/api/v1/targets?state=active')) as { activeTargets: { health: string; lastError: string; scrapeUrl: string }[] }).activeTargets,
    stop: () => {
      try {
        script(['stop', prometheusDir]);
      } finally {
        rmSync(directory, { recursive: true, force: true });
      }
    },
  };
}
