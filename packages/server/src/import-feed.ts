import assert from 'node:assert/strict';
import { ArcError, ErrorKind, badRequest, type ArcErrorShape } from '@arc/errors';
import type { Completion, RequestOptions } from '@arc/ingest';
import { ServerErrorCode } from './error-codes.js';
import { IMPORT_CHUNKS_IN_FLIGHT_MAX, IMPORT_ERRORS_LISTED, IMPORT_REJECTED_ROWS_MAX } from './limits.js';
import type { ServerContext } from './server-context.js';

const NEWLINE = 0x0a;

/**
 * One chunk of an import: line protocol text cut at line boundaries. Line i (1-based) of the body
 * is the file's line (or, for CSV and Parquet, row) `numbers[i - 1]`, or `firstNumber + i - 1`
 * when `numbers` is null.
 */
export interface ImportChunk {
  readonly body: Uint8Array;
  readonly firstNumber: number;
  readonly numbers: Int32Array | null;
}

/** A rejected row of an import, as its answer lists it: where it was in the file and why. */
export interface ImportRowError {
  readonly line: number;
  readonly code: string;
  readonly error: string;
}

/**
 * Hands an import's chunks to the ingest pipeline like write requests (same decoders, validation,
 * WAL and per-request atomicity), at most IMPORT_CHUNKS_IN_FLIGHT_MAX at a time: `submit` resolves
 * when the chunk is queued, so the caller reads the file no faster than ingest takes it.
 * A chunk the pipeline refuses for room (its in-flight byte bound: offered again once a held write
 * is answered; a wait that timed out, 503: offered again at once) is never dropped. A chunk refused for one bad line is submitted again without that line,
 * and the line is counted as rejected (up to IMPORT_REJECTED_ROWS_MAX; then the import stops).
 */
export class ImportFeed {
  private readonly context: ServerContext;
  private readonly options: RequestOptions;
  private inFlight = 0;
  private roomWaiters: (() => void)[] = [];
  rowsImported = 0;
  rowsRejected = 0;
  bytesSubmitted = 0;
  readonly errors: ImportRowError[] = [];
  /** Why the import stopped early (too many bad rows, the server stopping), or null. */
  stopped: ArcError | null = null;

  constructor(context: ServerContext, options: RequestOptions) {
    this.context = context;
    this.options = options;
  }

  /** Queues the chunk once fewer than IMPORT_CHUNKS_IN_FLIGHT_MAX are in the pipeline. */
  async submit(chunk: ImportChunk): Promise<void> {
    while (this.inFlight >= IMPORT_CHUNKS_IN_FLIGHT_MAX) await this.room();
    if (this.stopped !== null) return;
    this.inFlight += 1;
    this.bytesSubmitted += chunk.body.byteLength;
    this.offer(chunk);
  }

  /** Resolves when every submitted chunk has its verdict. */
  async drain(): Promise<void> {
    while (this.inFlight > 0) await this.room();
  }

  private room(): Promise<void> {
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  private settled(): void {
    this.inFlight -= 1;
    assert.ok(this.inFlight >= 0, 'a chunk settles once');
    const waiters = this.roomWaiters;
    this.roomWaiters = [];
    for (const wake of waiters) wake();
  }

  private offer(chunk: ImportChunk): void {
    if (this.context.phase === 'stopping') {
      this.stop(new ArcError(ErrorKind.unavailable, ServerErrorCode.shuttingDown, 'Server is shutting down; the import stopped'));
      return this.settled();
    }
    const outcome = this.context.pipeline.submit(this.options, chunk.body, (completion) => this.verdict(chunk, completion));
    // Past the pipeline's in-flight byte bound: offered again once a write it holds is answered.
    if (outcome === 'busy') void this.context.pipeline.whenRoom().then(() => this.offer(chunk));
  }

  private verdict(chunk: ImportChunk, completion: Completion): void {
    const { error } = completion;
    this.context.ingestStats.record(this.options.format, chunk.body.byteLength, completion.rowCount, error);
    this.context.metrics.ingest.written(this.options.format, this.options.database, chunk.body.byteLength, completion.rowCount, error);
    if (error === null) {
      this.rowsImported += completion.rowCount;
      return this.settled();
    }
    if (error.kind === ErrorKind.unavailable) {
      // The chunk waited ingest.wait_max_ms already (the pipeline's own wait): offered again at once.
      this.offer(chunk);
      return;
    }
    if (error.kind !== ErrorKind.badRequest) {
      this.stop(new ArcError(error.kind, error.code, error.message, error.details));
      return this.settled();
    }
    this.rejected(chunk, error);
  }

  /** A 400: the bad line is cut out and the rest offered again; without a line, the whole chunk is rejected. */
  private rejected(chunk: ImportChunk, error: ArcErrorShape): void {
    const lineIndex = typeof error.details?.line === 'number' ? error.details.line - 1 : -1;
    const lines = lineStarts(chunk.body);
    const valid = lineIndex >= 0 && lineIndex < lines.length - 1;
    const rejectedCount = valid ? 1 : lines.length - 1;
    this.record(valid ? numberOf(chunk, lineIndex) : chunk.numbers?.[0] ?? chunk.firstNumber, error, rejectedCount);
    if (!valid || this.stopped !== null) return this.settled();
    const rest = withoutLine(chunk, lines, lineIndex);
    if (rest.body.byteLength === 0) return this.settled();
    this.offer(rest);
  }

  /** Rows refused before they became lines (a CSV row whose time is no time): counted and listed like the decoders' refusals. */
  noteRejected(rowCount: number, listed: readonly ImportRowError[]): void {
    for (const row of listed) this.record(row.line, { kind: ErrorKind.badRequest, code: row.code, message: row.error }, 0);
    this.rowsRejected += rowCount;
    this.checkRejectedMax(listed[0]?.line ?? 0, listed[0]?.error ?? '');
  }

  private record(number: number, error: ArcErrorShape, rowCount: number): void {
    this.rowsRejected += rowCount;
    if (this.errors.length < IMPORT_ERRORS_LISTED) this.errors.push({ line: number, code: error.code, error: error.message });
    this.checkRejectedMax(number, error.message);
  }

  private checkRejectedMax(number: number, message: string): void {
    if (this.rowsRejected > IMPORT_REJECTED_ROWS_MAX) {
      this.stop(badRequest(ServerErrorCode.importRejected, `More than ${IMPORT_REJECTED_ROWS_MAX} rows rejected; the import stopped (first at line ${this.errors[0]?.line ?? number}: ${this.errors[0]?.error ?? message})`, { limit_rows: IMPORT_REJECTED_ROWS_MAX }));
    }
  }

  private stop(reason: ArcError): void {
    this.stopped ??= reason;
  }
}

/** Byte offsets where each line starts, plus the body's length as the last entry. */
function lineStarts(body: Uint8Array): number[] {
  const starts = [0];
  let at = body.indexOf(NEWLINE);
  while (at >= 0 && at + 1 < body.byteLength) {
    starts.push(at + 1);
    at = body.indexOf(NEWLINE, at + 1);
  }
  starts.push(body.byteLength);
  return starts;
}

function numberOf(chunk: ImportChunk, lineIndex: number): number {
  if (chunk.numbers === null) return chunk.firstNumber + lineIndex;
  const number = chunk.numbers[lineIndex];
  assert.ok(number !== undefined, 'a line number per line');
  return number;
}

/** The chunk without line `lineIndex`; the remaining lines keep their numbers in the file. */
function withoutLine(chunk: ImportChunk, lines: readonly number[], lineIndex: number): ImportChunk {
  const start = lines[lineIndex];
  const end = lines[lineIndex + 1];
  assert.ok(start !== undefined && end !== undefined, 'the line is in the chunk');
  const body = new Uint8Array(chunk.body.byteLength - (end - start));
  body.set(chunk.body.subarray(0, start), 0);
  body.set(chunk.body.subarray(end), start);
  const lineCount = lines.length - 1;
  const numbers = new Int32Array(lineCount - 1);
  for (let index = 0, out = 0; index < lineCount; index++) {
    if (index !== lineIndex) numbers[out++] = numberOf(chunk, index);
  }
  return { body, firstNumber: chunk.firstNumber, numbers };
}
