import { quoteIdentifier } from '@arc/columnar';
import { ArcError } from '@arc/errors';
import type { ImportSink, SinkWriteResult } from '@arc/importer';
import { PayloadFormat } from '@arc/ingest';
import { LineProtocolPrecision } from '@arc/protocol';
import { QueryErrorCode } from '@arc/query';
import { ImportFeed } from './import-feed.js';
import type { ServerContext } from './server-context.js';

/**
 * Arc's side of the import jobs (packages/importer job-runner.ts): a chunk is written like any line
 * protocol write through ImportFeed (same decoders, validation, WAL and atomicity; a bad line is
 * cut out and counted as rejected), flushes go to the writers, and the in-doubt counts are SQL
 * through the query pool (which reads the files, hence the flush before a count).
 */
export class ImportJobSink implements ImportSink {
  private readonly contextOf: () => ServerContext;

  /** `contextOf` is called at each write, never before the server's context is built. */
  constructor(contextOf: () => ServerContext) {
    this.contextOf = contextOf;
  }

  private get context(): ServerContext {
    return this.contextOf();
  }

  async write(database: string, body: Uint8Array): Promise<SinkWriteResult> {
    const feed = new ImportFeed(this.context, { format: PayloadFormat.lineProtocol, database, nowUs: Date.now() * 1000, precision: LineProtocolPrecision.ns });
    await feed.submit({ body, firstNumber: 1, numbers: null });
    await feed.drain();
    if (feed.stopped !== null) throw feed.stopped;
    return { rows: feed.rowsImported, rejected: feed.rowsRejected };
  }

  async flush(database: string, measurements: readonly string[]): Promise<void> {
    for (const measurement of measurements) {
      const error = await this.context.pipeline.flushMeasurement(database, measurement);
      if (error !== null) throw error;
    }
  }

  async countRows(database: string, measurements: readonly string[], minTimeNs: bigint, maxTimeNs: bigint): Promise<number> {
    let total = 0;
    for (const measurement of measurements) {
      // Arc keeps time in microseconds (docs/decisions.md): the window's bounds are cut to theirs.
      const sql = `SELECT count(*) FROM ${quoteIdentifier(measurement)} WHERE time BETWEEN make_timestamp(${microsecondsOf(minTimeNs)}) AND make_timestamp(${microsecondsOf(maxTimeNs)})`;
      total += await this.count(database, sql);
    }
    return total;
  }

  private async count(database: string, sql: string): Promise<number> {
    try {
      const answer = await this.context.queryPool.run({ sql, database, format: 'json' });
      try {
        const parsed = JSON.parse(Buffer.from(answer.body).toString('utf8')) as { data: unknown[][] };
        return Number(parsed.data[0]?.[0] ?? 0);
      } finally {
        answer.release();
      }
    } catch (error) {
      // A measurement (or database) the job has not written yet holds no row.
      if (error instanceof ArcError && (error.code === QueryErrorCode.unknownTable || error.code === QueryErrorCode.unknownDatabase)) return 0;
      throw error;
    }
  }
}

/** ns to whole microseconds, rounded down (as the decoders store a time). */
function microsecondsOf(ns: bigint): string {
  return (ns >= 0n ? ns / 1000n : -((-ns + 999n) / 1000n)).toString();
}
