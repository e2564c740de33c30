import { performance } from 'node:perf_hooks';
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import type { HistogramCell } from '@arc/telemetry';
import { observeStatus, type StatusObserver } from './http-response.js';
import { HTTP_DURATION_BUCKETS_SECONDS, METRIC_ERROR_CODES_MAX, METRIC_LABEL_OTHER, QUERY_DURATION_BUCKETS_SECONDS } from './limits.js';
import { CounterFamily, HistogramFamily, histogramQuantile } from './metrics-series.js';
import type { RegisteredRoute, RouteHandler, RouteMethod } from './route-table.js';

export type QueryLanguage = 'sql' | 'influxql';

const STARTED_AT_MS = Symbol('arc.requestStartedAtMs');
const QUERY_LANGUAGE = Symbol('arc.queryLanguage');
interface Metered {
  [STARTED_AT_MS]?: number;
  [QUERY_LANGUAGE]?: QueryLanguage | undefined;
}

/**
 * Marks a request as a query in `language`: its answer then also counts in arc_query_* (a query
 * route calls this once it knows the dialect: POST /query carries SQL or InfluxQL).
 */
export function markQuery(res: HttpResponse, language: QueryLanguage): void {
  (res as HttpResponse & Metered)[QUERY_LANGUAGE] = language;
}

/** Methods named in labels; any other (a catch-all route sees what the client sent) is `other`. */
const KNOWN_METHODS: ReadonlySet<string> = new Set(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS']);
const METHOD_OF_ROUTE: Readonly<Record<Exclude<RouteMethod, 'any'>, string>> = { get: 'GET', post: 'POST', put: 'PUT', del: 'DELETE', patch: 'PATCH', options: 'OPTIONS', head: 'HEAD' };

/**
 * Counts and times every request under the route it was registered as (the uWS pattern, so
 * `/query/:measurement` is one series whatever the measurement), by method and status; and the
 * queries among them by language, with their errors by code. Attached to each handler once
 * through the route table (RouteTable.wrapHandlers); a request costs a timestamp and two
 * property writes on its response, its answer one counter and one histogram update.
 */
export class RequestMeter {
  readonly requests = new CounterFamily(['route', 'method', 'status']);
  readonly durations = new HistogramFamily(['route', 'method'], HTTP_DURATION_BUCKETS_SECONDS);
  readonly queries = new CounterFamily(['language']);
  readonly queryDurations = new HistogramFamily(['language'], QUERY_DURATION_BUCKETS_SECONDS);
  readonly queryErrors = new CounterFamily(['code']);
  readonly #errorCodes = new Set<string>();
  readonly #routes: RouteMeter[] = [];

  /** A RouteTable handler wrapper (`context.routes.wrapHandlers(meter.wrap)`). */
  readonly wrap = (route: RegisteredRoute, handler: RouteHandler): RouteHandler => {
    const routeMeter = new RouteMeter(this, route);
    this.#routes.push(routeMeter);
    const fixedMethod = route.method === 'any' ? null : METHOD_OF_ROUTE[route.method];
    // A fixed-method route's series are made at its first request (a route never called adds
    // nothing to a scrape) and kept: no lookup per request.
    let fixedMeter: MethodMeter | null = null;
    return (res: HttpResponse, req: HttpRequest) => {
      (res as HttpResponse & Metered)[STARTED_AT_MS] = performance.now();
      (res as HttpResponse & Metered)[QUERY_LANGUAGE] = undefined;
      const methodMeter = fixedMethod === null ? routeMeter.forMethod(req.getMethod().toUpperCase()) : (fixedMeter ??= routeMeter.forMethod(fixedMethod));
      observeStatus(res, methodMeter);
      handler(res, req);
    };
  };

  queryAnswered(language: QueryLanguage, seconds: number, status: string, errorCode: string | null): void {
    this.queries.add([language]);
    this.queryDurations.series([language]).observe(seconds);
    if (status < '400') return;
    this.queryErrors.add([this.#boundedCode(errorCode ?? `HTTP_${status}`)]);
  }

  /** Per route and method: requests, by status class, and latency percentiles (GET /metrics/endpoints). */
  endpoints(): EndpointSummary[] {
    // A route whose first request is still unanswered has no count yet: not listed.
    return this.#routes.flatMap((route) => route.summaries()).filter((summary) => summary.requests > 0);
  }

  #boundedCode(code: string): string {
    if (this.#errorCodes.has(code)) return code;
    if (this.#errorCodes.size >= METRIC_ERROR_CODES_MAX) return METRIC_LABEL_OTHER;
    this.#errorCodes.add(code);
    return code;
  }
}

export interface EndpointSummary {
  readonly route: string;
  readonly method: string;
  readonly requests: number;
  readonly by_status: Readonly<Record<string, number>>;
  readonly errors: number;
  readonly latency_ms: { readonly mean: number | null; readonly p50: number | null; readonly p95: number | null; readonly p99: number | null };
}

/** One registered route's series, per method seen (one for a fixed-method route). */
class RouteMeter {
  readonly #meter: RequestMeter;
  readonly #route: RegisteredRoute;
  readonly #byMethod = new Map<string, MethodMeter>();

  constructor(meter: RequestMeter, route: RegisteredRoute) {
    this.#meter = meter;
    this.#route = route;
  }

  forMethod(method: string): MethodMeter {
    const label = KNOWN_METHODS.has(method) ? method : METHOD_LABEL_OTHER;
    let methodMeter = this.#byMethod.get(label);
    if (methodMeter === undefined) this.#byMethod.set(label, (methodMeter = new MethodMeter(this.#meter, this.#route.pattern, label)));
    return methodMeter;
  }

  summaries(): EndpointSummary[] {
    return [...this.#byMethod.values()].map((methodMeter) => methodMeter.summary());
  }
}

const METHOD_LABEL_OTHER = 'OTHER';

/** The series of one (route, method): a counter cell per status seen, one latency histogram. */
class MethodMeter implements StatusObserver {
  readonly #meter: RequestMeter;
  readonly #route: string;
  readonly #method: string;
  readonly #duration: HistogramCell;
  readonly #byStatus = new Map<string, { value: number }>();

  constructor(meter: RequestMeter, route: string, method: string) {
    this.#meter = meter;
    this.#route = route;
    this.#method = method;
    this.#duration = meter.durations.series([route, method]);
  }

  statusWritten(res: HttpResponse, status: string, errorCode: string | null): void {
    const metered = res as HttpResponse & Metered;
    const seconds = (performance.now() - (metered[STARTED_AT_MS] ?? performance.now())) / 1000;
    // "404 Not Found" -> "404": Arc writes only its own status lines (a bounded set).
    const code = status.slice(0, 3);
    let counter = this.#byStatus.get(code);
    if (counter === undefined) this.#byStatus.set(code, (counter = this.#meter.requests.series([this.#route, this.#method, code])));
    counter.value++;
    this.#duration.observe(seconds);
    const language = metered[QUERY_LANGUAGE];
    if (language !== undefined) this.#meter.queryAnswered(language, seconds, code, errorCode);
  }

  summary(): EndpointSummary {
    const byStatus: Record<string, number> = {};
    let requests = 0;
    let errors = 0;
    for (const [status, counter] of this.#byStatus) {
      byStatus[status] = counter.value;
      requests += counter.value;
      if (status >= '400') errors += counter.value;
    }
    const snapshot = this.#meter.durations.snapshot([this.#route, this.#method]);
    const milliseconds = (quantile: number): number | null => {
      const seconds = snapshot === null ? null : histogramQuantile(quantile, snapshot);
      return seconds === null ? null : Math.round(seconds * 1e6) / 1000;
    };
    const mean = snapshot === null || snapshot.count === 0 ? null : Math.round((snapshot.sum / snapshot.count) * 1e6) / 1000;
    return { route: this.#route, method: this.#method, requests, by_status: byStatus, errors, latency_ms: { mean, p50: milliseconds(0.5), p95: milliseconds(0.95), p99: milliseconds(0.99) } };
  }
}
