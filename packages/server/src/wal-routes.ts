import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { ArcError } from '@arc/errors';
import { deadLetterDirectory, deadLetterTotalsSync, parseSegmentName, requestRotation, SYNC_LATENCY_BUCKETS_MS, type WalStatsSummary } from '@arc/wal';
import { newResponseState, sendError, sendJson } from './http-response.js';
import { readRequestInfo } from './request-info.js';
import type { ServerContext } from './server-context.js';
import { registerDeadLetterRoutes } from './wal-dead-letter-routes.js';
import { withReadToken } from './write-stats-routes.js';

/** An oldest unflushed entry older than this many flush ages makes /api/wal/health "degraded". */
const UNFLUSHED_AGE_DEGRADED_FLUSH_AGES = 10;
/** ...but never below this (short flush ages would flag ordinary jitter). */
const UNFLUSHED_AGE_DEGRADED_MS_MIN = 60_000;
/** A WAL write error this recent makes /api/wal/health "degraded". */
const WRITE_ERROR_RECENT_MS = 60_000;
/** Cleanup waits this long for decoders to delete the segments the flush covered. */
const CLEANUP_WAIT_MS_MAX = 2000;
const CLEANUP_POLL_MS = 20;

function statsBody(context: ServerContext, stats: WalStatsSummary): Record<string, unknown> {
  const nowMs = Date.now();
  const deadLetters = deadLetterTotalsSync(context.config.wal.dir);
  return {
    enabled: context.config.wal.enabled,
    sync_mode: context.config.wal.syncMode,
    entries: stats.entries,
    bytes: stats.bytes,
    syncs: stats.syncs,
    entries_per_sync: stats.syncs === 0 ? 0 : stats.entries / stats.syncs,
    sync_ms_avg: stats.syncs === 0 ? 0 : stats.syncMsTotal / stats.syncs,
    sync_ms_max: stats.syncMsMax,
    sync_latency_histogram: stats.syncHistogram.map((count, index) => ({ le_ms: SYNC_LATENCY_BUCKETS_MS[index] ?? 'inf', count })),
    segments_live: stats.segmentsLive,
    segments_deleted: stats.segmentsDeleted,
    bytes_live: stats.bytesLive,
    rotations: stats.rotations,
    write_errors: stats.writeErrors,
    oldest_unflushed_age_seconds: stats.oldestUnflushedAtMs === 0 ? 0 : (nowMs - stats.oldestUnflushedAtMs) / 1000,
    // Acknowledged entries replay could not apply, waiting in <wal dir>/dead-letter/ (never deleted by cleanup).
    dead_letter_entries: deadLetters.entries,
    dead_letter_bytes: deadLetters.bytes,
  };
}

function filesBody(directory: string): Record<string, unknown> {
  const files: Record<string, unknown>[] = [];
  let totalBytes = 0;
  let names: string[] = [];
  try {
    names = readdirSync(directory).sort();
  } catch {
    // No directory yet (WAL off, never on): no files.
  }
  for (const name of names) {
    const segment = parseSegmentName(directory, name);
    const isJournal = name.endsWith('.journal');
    if (segment === null && !isJournal) continue;
    let stat;
    try {
      stat = statSync(path.join(directory, name));
    } catch {
      continue; // deleted since the listing
    }
    totalBytes += stat.size;
    files.push({ name, kind: isJournal ? 'flush_journal' : 'segment', stream: segment?.stream ?? null, first_seq: segment?.firstSeq ?? null, bytes: stat.size, modified: stat.mtime.toISOString() });
  }
  return { directory, files, count: files.length, total_bytes: totalBytes };
}

function healthReasons(context: ServerContext, stats: WalStatsSummary): string[] {
  const reasons: string[] = [];
  const nowMs = Date.now();
  const recovery = context.walRecovery;
  if (recovery.state === 'failed') reasons.push(`recovery: ${recovery.error ?? 'failed'}`);
  const deadLetters = deadLetterTotalsSync(context.config.wal.dir).entries;
  if (deadLetters > 0) reasons.push(`${deadLetters} acknowledged WAL entries could not be replayed and wait as dead letters (GET /api/v1/wal/dead-letter, POST /api/v1/wal/dead-letter/replay)`);
  if (stats.lastWriteErrorAtMs > 0 && nowMs - stats.lastWriteErrorAtMs < WRITE_ERROR_RECENT_MS) reasons.push(`WAL write errors (${stats.writeErrors} so far), the last ${Math.round((nowMs - stats.lastWriteErrorAtMs) / 1000)} s ago`);
  const ageLimitMs = Math.max(UNFLUSHED_AGE_DEGRADED_MS_MIN, UNFLUSHED_AGE_DEGRADED_FLUSH_AGES * context.config.writer.flushAgeMs);
  if (stats.oldestUnflushedAtMs > 0 && nowMs - stats.oldestUnflushedAtMs > ageLimitMs) {
    reasons.push(`WAL entries waiting ${Math.round((nowMs - stats.oldestUnflushedAtMs) / 1000)} s for a Parquet flush (flushes failing?)`);
  }
  return reasons;
}

/** POST /api/wal/cleanup (admin): close current segments, flush every buffer, delete what is covered. */
function handleCleanup(context: ServerContext, res: HttpResponse, req: HttpRequest): void {
  const request = readRequestInfo(req);
  const state = newResponseState(res);
  void context.auth.check(request, 'admin', null).then(async (identity) => {
    if (identity instanceof ArcError) return sendError(res, state, identity);
    const pipeline = context.pipeline;
    const before = pipeline.walStats();
    requestRotation(pipeline.walStatsBuffers);
    pipeline.wakeDecoders();
    const flushError = await pipeline.flushAll();
    if (flushError !== null) return sendError(res, state, flushError);
    const deadline = Date.now() + CLEANUP_WAIT_MS_MAX;
    while (pipeline.walStats().segmentsLive > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, CLEANUP_POLL_MS));
    const after = pipeline.walStats();
    sendJson(res, state, '200 OK', { success: true, segments_deleted: after.segmentsDeleted - before.segmentsDeleted, segments_live: after.segmentsLive, bytes_live: after.bytesLive });
  });
}

/** The WAL's endpoints (README), each also under /api/v1. */
export function registerWalRoutes(app: TemplatedApp, context: ServerContext): void {
  for (const prefix of ['/api/wal', '/api/v1/wal']) {
    app.get(`${prefix}/status`, (res, req) =>
      withReadToken(context, res, req, async (send) => {
        const { wal } = context.config;
        send({
          enabled: wal.enabled,
          sync_mode: wal.syncMode,
          directory: wal.dir,
          streams: wal.enabled ? context.pipeline.decoderCount : 0,
          group_commit_wait_ms: wal.groupCommitWaitMs,
          group_commit_kb: wal.groupCommitBytes / 1024,
          max_size_mb: wal.segmentBytesMax / (1024 * 1024),
          max_age_seconds: wal.segmentAgeMsMax / 1000,
          recovery: { ...context.walRecovery },
          dead_letter: { directory: deadLetterDirectory(wal.dir), entries: deadLetterTotalsSync(wal.dir).entries },
        });
      }),
    );
    app.get(`${prefix}/stats`, (res, req) => withReadToken(context, res, req, async (send) => send(statsBody(context, context.pipeline.walStats()))));
    app.get(`${prefix}/files`, (res, req) => withReadToken(context, res, req, async (send) => send(filesBody(context.config.wal.dir))));
    app.get(`${prefix}/health`, (res, req) =>
      withReadToken(context, res, req, async (send) => {
        if (!context.config.wal.enabled) { send({ status: 'healthy', enabled: false, reasons: [] }); return; }
        const reasons = healthReasons(context, context.pipeline.walStats());
        if (reasons.length === 0) send({ status: 'healthy', enabled: true, reasons });
        else send({ status: 'degraded', enabled: true, reasons }, '503 Service Unavailable');
      }),
    );
    app.post(`${prefix}/cleanup`, (res, req) => handleCleanup(context, res, req));
  }
  registerDeadLetterRoutes(app, context);
}
