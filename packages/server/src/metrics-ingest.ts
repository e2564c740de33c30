import { ErrorKind, type ArcErrorShape } from '@arc/errors';
import { IngestErrorCode, PayloadFormat, type WaitOutcome } from '@arc/ingest';
import { WriterErrorCode } from '@arc/writer';
import { ServerErrorCode } from './error-codes.js';
import { METRIC_LABEL_OTHER } from './limits.js';
import { CounterFamily, HistogramFamily } from './metrics-series.js';

/** The `protocol` label of each payload format. */
export const PROTOCOL_LABELS: Readonly<Record<PayloadFormat, string>> = {
  [PayloadFormat.msgpack]: 'msgpack',
  [PayloadFormat.lineProtocol]: 'line_protocol',
  [PayloadFormat.json]: 'json',
};

/** Why a write was refused, as arc_ingest_rejects_total{reason} names it: a closed set. */
export const REJECT_REASONS = ['bad_request', 'too_large', 'unauthorized', 'buffers_full', 'storage_full', 'in_flight_full', 'wait_timeout', 'not_ready', 'conflict', 'timeout', 'internal'] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/** The reason label of a write's refusal: by its code where the code says more than its kind. */
export function rejectReasonOf(error: Pick<ArcErrorShape, 'kind' | 'code'>): RejectReason {
  switch (error.code) {
    case ServerErrorCode.ingestBusy:
      return 'in_flight_full';
    case IngestErrorCode.waitTimedOut:
      return 'wait_timeout';
    case ServerErrorCode.starting:
    case ServerErrorCode.shuttingDown:
    case IngestErrorCode.stoppedWhileWaiting:
      return 'not_ready';
    case WriterErrorCode.buffersFull:
      return 'buffers_full';
    case WriterErrorCode.storageFull:
      return 'storage_full';
  }
  switch (error.kind) {
    case ErrorKind.badRequest:
    case ErrorKind.notFound:
      return 'bad_request';
    case ErrorKind.tooLarge:
    case ErrorKind.headersTooLarge:
      return 'too_large';
    case ErrorKind.unauthorized:
    case ErrorKind.forbidden:
      return 'unauthorized';
    case ErrorKind.conflict:
      return 'conflict';
    case ErrorKind.requestTimeout:
    case ErrorKind.timeout:
      return 'timeout';
    case ErrorKind.unavailable:
      return 'buffers_full';
    case ErrorKind.internal:
      return 'internal';
  }
}

/** How a write that waited for room left the wait, as arc_ingest_waits_total{outcome} names it. */
export const WAIT_OUTCOMES: readonly WaitOutcome[] = ['handed_over', 'timed_out', 'stopped'];

/**
 * Seconds a write waited for a ring or for buffers to drain: 1 ms (a ring freed at once) to a
 * minute (past ingest.wait_max_ms's default; a longer configured wait lands in +Inf).
 */
export const WAIT_SECONDS_BUCKETS: readonly number[] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

interface DatabaseCells {
  readonly requests: { value: number };
  readonly rows: { value: number };
  readonly bytes: { value: number };
}

/**
 * Counters of the write path by protocol and database, and refusals by reason, kept on the
 * acceptor thread as verdicts arrive. Database names come from clients, so only the first
 * `databaseLabelsMax` distinct ones get a label of their own; the rest are counted as `other`
 * (each named database costs a few series in every scrape and in Prometheus).
 */
export class IngestMeter {
  readonly requests = new CounterFamily(['protocol', 'database']);
  readonly rows = new CounterFamily(['protocol', 'database']);
  readonly bytes = new CounterFamily(['protocol', 'database']);
  readonly rejects = new CounterFamily(['reason']);
  /** Writes that waited for room, by how the wait ended. */
  readonly waits = new CounterFamily(['outcome']);
  /** How long those writes waited in all. */
  readonly waitSeconds = new HistogramFamily([], WAIT_SECONDS_BUCKETS);
  /** 503s answered to writes (rings or buffers full, starting, stopping). */
  overloadResponses = 0;
  readonly #databaseLabelsMax: number;
  readonly #named = new Set<string>();
  readonly #cells = new Map<string, DatabaseCells>();

  constructor(databaseLabelsMax: number) {
    this.#databaseLabelsMax = databaseLabelsMax;
  }

  /** A write reached a verdict (a valid database name by then): counted, its rows if accepted. */
  written(format: PayloadFormat, database: string, bodyBytes: number, rowCount: number, error: ArcErrorShape | null): void {
    const cells = this.#cellsOf(format, database);
    cells.requests.value++;
    cells.bytes.value += bodyBytes;
    if (error === null) cells.rows.value += rowCount;
    else this.refused(error);
  }

  /** A write refused (before or after its decoder saw it). */
  refused(error: Pick<ArcErrorShape, 'kind' | 'code'>): void {
    this.rejects.add([rejectReasonOf(error)]);
    if (error.kind === ErrorKind.unavailable) this.overloadResponses++;
  }

  /** A write that waited for room left the wait (IngestPipeline.onWaitEnded). */
  waitEnded(waitedMs: number, outcome: WaitOutcome): void {
    this.waits.add([outcome]);
    this.waitSeconds.series([]).observe(waitedMs / 1000);
  }

  /** The label a database is counted under. */
  databaseLabel(database: string): string {
    if (this.#named.has(database)) return database;
    if (this.#named.size >= this.#databaseLabelsMax) return METRIC_LABEL_OTHER;
    this.#named.add(database);
    return database;
  }

  #cellsOf(format: PayloadFormat, database: string): DatabaseCells {
    const label = this.databaseLabel(database);
    const key = `${format}\u0000${label}`;
    let cells = this.#cells.get(key);
    if (cells === undefined) {
      const labels = [PROTOCOL_LABELS[format], label];
      cells = { requests: this.requests.series(labels), rows: this.rows.series(labels), bytes: this.bytes.series(labels) };
      this.#cells.set(key, cells);
    }
    return cells;
  }
}
