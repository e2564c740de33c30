import path from 'node:path';
import type { TemplatedApp } from 'uWebSockets.js';
import { ArcError, ErrorKind } from '@arc/errors';
import { decodeRequestEnvelope, deadLetterDirectory, deadLetterTotalsSync, hasDeadLetterSync, listDeadLettersSync, parseDeadLetterId, readDeadLetterSync, removeDeadLetterSync, WalErrorCode, type DeadLetter } from '@arc/wal';
import { z } from 'zod';
import { validateDatabaseName } from '@arc/columnar';
import { envelopeOptions, PayloadFormat, precisionOfCode, REPLAY_RETRY_DELAY_MS, RequestDecoder, type Completion, type RequestOptions } from '@arc/ingest';
import { DEAD_LETTER_REPLAY_IDS_MAX, DEAD_LETTER_SUBMIT_WAIT_MS_MAX } from './limits.js';
import { answer, parseBody, pathParameter, registerManagementRoutes, type ManagementAnswer, type ManagementCall, type ManagementRoute } from './management-route.js';
import { itemErrorBody } from './http-response.js';
import type { ServerContext } from './server-context.js';
import { ServerErrorCode } from './error-codes.js';

/**
 * The WAL's dead letters (acknowledged entries replay could not apply, kept in
 * `<wal dir>/dead-letter/`), admin only, under /api/wal and /api/v1/wal:
 *
 *   GET  .../dead-letter           each entry: where it was, its database and format, why it was
 *                                  refused and when
 *   POST .../dead-letter/replay    {"ids": [...]} or {} for all: each is re-submitted through the
 *                                  normal ingest path (decoders, writers, a new WAL entry) with
 *                                  its original arrival time; the ones acknowledged are removed,
 *                                  the refused ones stay with the new reason in the answer; one
 *                                  with rows already in Parquet is not re-applied whole
 *   DELETE .../dead-letter/:id     drops one the admin has dealt with otherwise
 */
const FORMAT_NAMES: ReadonlyMap<number, string> = new Map([
  [PayloadFormat.msgpack, 'msgpack'],
  [PayloadFormat.lineProtocol, 'line_protocol'],
  [PayloadFormat.json, 'json'],
]);

function expected(what: string): (issue: { input?: unknown }) => string {
  return (issue) => (issue.input === undefined ? 'is required' : `must be ${what}`);
}

export const replaySchema = z.strictObject({
  ids: z
    .array(z.string({ error: expected('a dead-letter id (<stream>-<seq>, as listed)') }), { error: expected('an array of dead-letter ids') })
    .min(1, { error: 'must name at least one dead letter (send {} for all)' })
    .max(DEAD_LETTER_REPLAY_IDS_MAX, { error: `must name at most ${DEAD_LETTER_REPLAY_IDS_MAX} dead letters` })
    .optional(),
});

function listedEntry(letter: DeadLetter): Record<string, unknown> {
  return {
    id: letter.id,
    stream: letter.stream,
    seq: letter.seq,
    database: letter.database,
    format: letter.format === null ? null : (FORMAT_NAMES.get(letter.format) ?? `unknown (${letter.format})`),
    precision: letter.precision === null ? null : (precisionOfCode(letter.precision) ?? `unknown (${letter.precision})`),
    received_at: letter.timestampUs === 0 ? null : new Date(Math.floor(letter.timestampUs / 1000)).toISOString(),
    body_bytes: letter.bodyBytes,
    entry_bytes: letter.entryBytes,
    error: itemErrorBody(letter.reason),
    dead_lettered_at: letter.deadLetteredAt,
    already_in_parquet: letter.alreadyInParquet,
  };
}

function list(context: ServerContext): ManagementAnswer {
  const directory = context.config.wal.dir;
  const entries = listDeadLettersSync(directory).map(listedEntry);
  return answer('200 OK', { success: true, directory: deadLetterDirectory(directory), count: entries.length, total_bytes: deadLetterTotalsSync(directory).bytes, entries });
}

/** Hands a body to the decoders like a write does, waiting out a full in-flight bound for a bounded time. */
async function submitTaken(context: ServerContext, options: RequestOptions, body: Uint8Array): Promise<Completion | ArcError> {
  const deadline = Date.now() + DEAD_LETTER_SUBMIT_WAIT_MS_MAX;
  for (;;) {
    let onDone: (completion: Completion) => void = () => undefined;
    const done = new Promise<Completion>((resolve) => (onDone = resolve));
    if (context.pipeline.submit(options, body, onDone) === 'queued') return done;
    if (Date.now() > deadline) return new ArcError(ErrorKind.unavailable, ServerErrorCode.ingestBusy, `Writes held stayed past ingest.in_flight_max_mb for ${DEAD_LETTER_SUBMIT_WAIT_MS_MAX} ms; retry later`);
    await new Promise((resolve) => setTimeout(resolve, REPLAY_RETRY_DELAY_MS));
  }
}

type ReplayResult = { readonly id: string; readonly status: 'applied'; readonly rows: number } | { readonly id: string; readonly status: 'refused'; readonly error: { code: string; message: string } };

function refused(id: string, code: string, message: string): ReplayResult {
  return { id, status: 'refused', error: itemErrorBody({ code, message }) };
}

/**
 * Which of the request's measurements a flush put in Parquet before it was refused, and whether
 * that is all of them. `alreadyInParquet` names every measurement of its database and stream
 * covered past it (more than it touches), so the body is decoded here to see which it has. A body
 * that does not decode goes to the decoders anyway and is refused there with the reason.
 */
function rowsAlreadyInParquet(context: ServerContext, alreadyInParquet: readonly string[], options: RequestOptions, body: Uint8Array): { readonly measurements: string[]; readonly all: boolean } {
  if (alreadyInParquet.length === 0) return { measurements: [], all: false };
  const batches = new RequestDecoder(context.config).decode(options, body);
  if (batches instanceof ArcError) return { measurements: [], all: false };
  const touched = new Set(batches.map((batch) => batch.measurement));
  const measurements = alreadyInParquet.filter((measurement) => touched.has(measurement));
  return { measurements, all: measurements.length === touched.size };
}

/** Re-submits one dead letter; removes it once acknowledged. */
async function reapply(context: ServerContext, id: string, alreadyInParquet: readonly string[]): Promise<ReplayResult> {
  const directory = context.config.wal.dir;
  const read = readDeadLetterSync(directory, id);
  if (read === null) return refused(id, ServerErrorCode.deadLetterNotFound, `Dead letter '${id}' is gone (applied by another call?)`);
  if (typeof read === 'string') return refused(id, WalErrorCode.entryUnreadable, read);
  const envelope = decodeRequestEnvelope(read.payload);
  if (typeof envelope === 'string') return refused(id, WalErrorCode.entryUnreadable, `the entry has a valid checksum but ${envelope}`);
  const options = envelopeOptions(envelope, read.timestampUs);
  if ('code' in options) return refused(id, options.code, options.message);
  const nameError = validateDatabaseName(options.database);
  if (nameError !== null) return refused(id, nameError.code, nameError.message);
  const inParquet = rowsAlreadyInParquet(context, alreadyInParquet, options, envelope.body);
  if (inParquet.all) {
    // Every row of it was flushed before the crash (only its replay failed): nothing to apply.
    removeDeadLetterSync(directory, id);
    context.log.info(`WAL dead letter ${id} removed: all its rows were already in Parquet`);
    return { id, status: 'applied', rows: 0 };
  }
  if (inParquet.measurements.length > 0) {
    return refused(
      id,
      ServerErrorCode.deadLetterPartlyInParquet,
      `The rows of ${inParquet.measurements.map((name) => `'${name}'`).join(', ')} in this request were already in Parquet when it was refused; re-applying it whole would write them twice. ` +
        `Write the other rows again from the body in ${path.join(deadLetterDirectory(context.config.wal.dir), `${id}.entry`)}, then DELETE /api/v1/wal/dead-letter/${id}`,
    );
  }
  const completion = await submitTaken(context, options, envelope.body);
  if (completion instanceof ArcError) return refused(id, completion.code, completion.message);
  context.ingestStats.record(options.format, envelope.body.byteLength, completion.rowCount, completion.error);
  if (completion.error !== null) return refused(id, completion.error.code, completion.error.message);
  removeDeadLetterSync(directory, id);
  context.log.info(`WAL dead letter ${id} re-applied (${completion.rowCount} rows) and removed`);
  return { id, status: 'applied', rows: completion.rowCount };
}

/** Servers with a re-apply running: a second call could submit the same dead letter twice. */
const reapplying = new WeakSet<ServerContext>();

/** Why re-applying is not possible now, or null. */
function notNow(context: ServerContext): ArcError | null {
  if (!context.config.wal.enabled) {
    // Without a WAL a 204 means "in memory": removing the dead letter then could lose it in a crash.
    return new ArcError(ErrorKind.conflict, ServerErrorCode.walDisabled, 'Dead letters are re-applied with the WAL on (wal.enabled = true), so each is durable before it is removed');
  }
  if (reapplying.has(context)) return new ArcError(ErrorKind.conflict, ServerErrorCode.deadLetterReplayRunning, 'Another dead-letter replay is running; retry once it answered');
  if (context.phase !== 'ready') return new ArcError(ErrorKind.unavailable, ServerErrorCode.starting, `The server is ${context.phase}; dead letters are re-applied once it is ready`);
  if (context.walRecovery.state === 'failed') {
    // The replayed segments were kept and are replayed at the next start: an entry re-applied now
    // from its dead letter could be applied again from its segment then.
    return new ArcError(ErrorKind.conflict, ServerErrorCode.walRecoveryIncomplete, `WAL recovery did not finish at this start (${context.walRecovery.error ?? 'failed'}); restart once the cause is fixed, then re-apply`);
  }
  return null;
}

async function replay(context: ServerContext, call: ManagementCall): Promise<ManagementAnswer | ArcError> {
  const input = parseBody(replaySchema, call.body);
  if (input instanceof ArcError) return input;
  const directory = context.config.wal.dir;
  const known = new Map(listDeadLettersSync(directory).map((letter) => [letter.id, letter.alreadyInParquet]));
  const ids = input.ids ?? [...known.keys()];
  for (const [index, id] of ids.entries()) {
    if (parseDeadLetterId(id) === null) return new ArcError(ErrorKind.badRequest, ServerErrorCode.badRequestBody, `Invalid request body: field 'ids[${index}]' must be a dead-letter id (<stream>-<seq>, as listed), got '${id.slice(0, 64)}'`, { field: `ids[${index}]` });
    if (!known.has(id)) return new ArcError(ErrorKind.notFound, ServerErrorCode.deadLetterNotFound, `No dead letter '${id}' (field 'ids[${index}]'); GET /api/v1/wal/dead-letter lists them`, { field: `ids[${index}]` });
  }
  const blocked = notNow(context);
  if (blocked !== null) return blocked;
  const results: ReplayResult[] = [];
  reapplying.add(context);
  try {
    // One at a time, in stream and seq order: a stream's entries are applied in the order they were logged.
    for (const id of [...new Set(ids)].sort()) results.push(await reapply(context, id, known.get(id) ?? []));
  } finally {
    reapplying.delete(context);
  }
  const applied = results.filter((result) => result.status === 'applied').length;
  return answer('200 OK', { success: applied === results.length, applied, refused: results.length - applied, remaining: deadLetterTotalsSync(directory).entries, results });
}

/** Drops a dead letter the admin has dealt with otherwise. */
function remove(context: ServerContext, call: ManagementCall): ManagementAnswer | ArcError {
  const id = pathParameter(call, 0);
  if (parseDeadLetterId(id) === null) return new ArcError(ErrorKind.badRequest, ServerErrorCode.badDeadLetterId, `'${id.slice(0, 64)}' is not a dead-letter id (<stream>-<seq>, as listed)`, { id: id.slice(0, 64) });
  if (!hasDeadLetterSync(context.config.wal.dir, id)) return new ArcError(ErrorKind.notFound, ServerErrorCode.deadLetterNotFound, `No dead letter '${id}'; GET /api/v1/wal/dead-letter lists them`, { id });
  removeDeadLetterSync(context.config.wal.dir, id);
  context.log.warn(`WAL dead letter ${id} deleted by ${call.identity.name}`);
  return answer('200 OK', { success: true, deleted: id, remaining: deadLetterTotalsSync(context.config.wal.dir).entries });
}

export function registerDeadLetterRoutes(app: TemplatedApp, context: ServerContext): void {
  for (const prefix of ['/api/wal', '/api/v1/wal']) {
    const routes: ManagementRoute[] = [
      { method: 'get', path: `${prefix}/dead-letter`, permission: 'admin', readsBody: false, handle: () => list(context) },
      { method: 'post', path: `${prefix}/dead-letter/replay`, permission: 'admin', readsBody: true, handle: (call) => replay(context, call) },
      { method: 'del', path: `${prefix}/dead-letter/:id`, permission: 'admin', readsBody: false, handle: (call) => remove(context, call) },
    ];
    registerManagementRoutes(app, context, routes);
  }
}
