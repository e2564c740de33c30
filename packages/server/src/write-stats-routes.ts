import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { ArcError } from '@arc/errors';
import type { WriterStats } from '@arc/writer';
import { PayloadFormat } from '@arc/ingest';
import { newResponseState, sendError, sendJson } from './http-response.js';
import { readRequestInfo } from './request-info.js';
import type { ServerContext } from './server-context.js';

/** Buffers fuller than this share of `writer.buffer_max_mb` make /write/health say "degraded". */
const BUFFER_DEGRADED_RATIO = 0.8;

function sumWriters(stats: readonly WriterStats[]): WriterStats {
  const total = { rowsBuffered: 0, bytesBuffered: 0, buffers: 0, flushes: 0, flushFailures: 0, rowsFlushed: 0, filesWritten: 0 };
  for (const writer of stats) {
    for (const key of Object.keys(total) as (keyof WriterStats)[]) total[key] += writer[key];
  }
  return total;
}

function writersBody(total: WriterStats): Record<string, number> {
  return {
    rows_buffered: total.rowsBuffered,
    bytes_buffered: total.bytesBuffered,
    buffers: total.buffers,
    flushes: total.flushes,
    flush_failures: total.flushFailures,
    rows_flushed: total.rowsFlushed,
    files_written: total.filesWritten,
  };
}

/**
 * Runs `answer` for a request with any valid token (`read`): counters are not per database. An
 * answer that reads nothing asynchronous sends at once and returns nothing.
 */
export function withReadToken(context: ServerContext, res: HttpResponse, req: HttpRequest, answer: (send: (body: unknown, status?: string) => void) => void | Promise<void>): void {
  const request = readRequestInfo(req);
  const state = newResponseState(res);
  void context.auth.check(request, 'read', null).then(async (identity) => {
    if (identity instanceof ArcError) return sendError(res, state, identity);
    await answer((body, status = '200 OK') => sendJson(res, state, status, body));
  });
}

/** The format of `POST /write/v2/msgpack`, as machine-readable JSON (README). */
const MSGPACK_SPEC = {
  format: 'msgpack',
  endpoints: ['/write/v2/msgpack', '/api/v2/msgpack', '/api/v1/write/msgpack'],
  compression: ['none', 'gzip (1f 8b)', 'zstd (28 b5 2f fd)'],
  database_header: 'x-arc-database',
  shapes: {
    row: { m: 'measurement (string)', t: 'time: integer s/ms/us/ns by magnitude, or float', h: 'host tag', tags: 'map of tag values', fields: 'map of field values', f: 'array of values named field_0, field_1, ...' },
    columnar: { m: 'measurement', columns: 'map of equal-length arrays (or bin of little-endian float64; time: int64)', tags: 'optional array of tag column names (else string columns are tags)' },
    batch: { batch: 'array of rows and columnar objects' },
  },
  types: { integer: 'BIGINT', float: 'DOUBLE', string: 'VARCHAR', bool: 'BOOLEAN', nil: 'NULL' },
  success: '204 No Content',
};

export function registerWriteStatsRoutes(app: TemplatedApp, context: ServerContext): void {
  app.get('/write/stats', (res, req) =>
    withReadToken(context, res, req, async (send) => {
      const writers = sumWriters(await context.pipeline.writerStats());
      send({ success: true, ...context.ingestStats.snapshot(), decoders: context.pipeline.decoderCount, writers: context.pipeline.writerCount, in_flight: context.pipeline.inFlight, buffers: writersBody(writers) });
    }),
  );
  app.get('/write/health', (res, req) =>
    withReadToken(context, res, req, async (send) => {
      const writers = sumWriters(await context.pipeline.writerStats());
      const bufferRatio = writers.bytesBuffered / context.config.writer.bufferBytesMax;
      const reasons = [
        ...(context.phase === 'ready' ? [] : [`server is ${context.phase}`]),
        ...(bufferRatio > BUFFER_DEGRADED_RATIO ? [`write buffers ${Math.round(bufferRatio * 100)}% full`] : []),
        ...(writers.flushFailures > 0 ? [`${writers.flushFailures} failed flushes (retried)`] : []),
      ];
      send({ status: reasons.length === 0 ? 'healthy' : 'degraded', reasons, buffers: writersBody(writers) }, reasons.length === 0 ? '200 OK' : '503 Service Unavailable');
    }),
  );
  app.get('/write/v2/msgpack/stats', (res, req) =>
    withReadToken(context, res, req, (send) => {
      send({ success: true, format: 'msgpack', ...context.ingestStats.formatCounters(PayloadFormat.msgpack) });
    }),
  );
  app.get('/write/v2/msgpack/spec', (res, req) => withReadToken(context, res, req, (send) => send(MSGPACK_SPEC)));
}
