import type { ArcErrorShape } from '@arc/errors';
import { PayloadFormat } from '@arc/ingest';
// The same names as the metrics' `protocol` label.
import { PROTOCOL_LABELS as FORMAT_NAMES } from './metrics-ingest.js';

interface FormatCounters {
  requests: number;
  accepted: number;
  rejected: number;
  rows: number;
  bytes: number;
}

/**
 * Counters of the write path, kept on the acceptor thread as verdicts arrive (one increment per
 * request, no locks): requests, rows and body bytes by format, refusals by error code.
 */
export class IngestStats {
  private readonly byFormat = new Map<PayloadFormat, FormatCounters>();
  private readonly errorsByCode = new Map<string, number>();
  /** Write requests whose client went away before their answer (mid-body or awaiting the verdict). */
  private requestsAborted = 0;
  readonly startedAtMs = Date.now();

  record(format: PayloadFormat, bodyBytes: number, rowCount: number, error: ArcErrorShape | null): void {
    let counters = this.byFormat.get(format);
    if (counters === undefined) {
      counters = { requests: 0, accepted: 0, rejected: 0, rows: 0, bytes: 0 };
      this.byFormat.set(format, counters);
    }
    counters.requests++;
    counters.bytes += bodyBytes;
    if (error === null) {
      counters.accepted++;
      counters.rows += rowCount;
    } else {
      counters.rejected++;
      this.errorsByCode.set(error.code, (this.errorsByCode.get(error.code) ?? 0) + 1);
    }
  }

  /** A write's client closed the connection before it was answered (uWS onAborted). */
  recordAborted(): void {
    this.requestsAborted++;
  }

  formatCounters(format: PayloadFormat): FormatCounters {
    return { ...(this.byFormat.get(format) ?? { requests: 0, accepted: 0, rejected: 0, rows: 0, bytes: 0 }) };
  }

  snapshot(): { uptime_seconds: number; by_format: Record<string, FormatCounters>; errors_by_code: Record<string, number>; rows_ingested: number; requests_aborted: number } {
    const byFormat: Record<string, FormatCounters> = {};
    let rows = 0;
    for (const format of Object.values(PayloadFormat)) {
      const counters = this.formatCounters(format);
      byFormat[FORMAT_NAMES[format]] = counters;
      rows += counters.rows;
    }
    return {
      uptime_seconds: Math.round((Date.now() - this.startedAtMs) / 1000),
      by_format: byFormat,
      errors_by_code: Object.fromEntries(this.errorsByCode),
      rows_ingested: rows,
      requests_aborted: this.requestsAborted,
    };
  }
}
