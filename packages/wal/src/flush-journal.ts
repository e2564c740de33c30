import assert from 'node:assert/strict';
import { closeSync, existsSync, fdatasyncSync, openSync, readdirSync, renameSync, writeSync } from 'node:fs';
import path from 'node:path';
import { JOURNAL_COMPACT_BYTES } from './limits.js';
import { readLogFileSync, truncateFileSync } from './segment-reader.js';
import { encodeEntry, encodeFileHeader, FILE_HEADER_BYTES } from './wal-format.js';
import { syncDirectory } from './wal-stream.js';
import { coverageKey, coveredSeqOf } from './coverage.js';

/**
 * The flush watermarks: which WAL entries are in durable Parquet. One journal per writer thread
 * (`flushed-w<index>.journal`, the WAL file format with JSON payloads), so writers never share a
 * lock. A record says "for (database, measurement), every entry of stream s up to seq n is in
 * Parquet, in these files". It is written and synced after the files are encoded and synced
 * under their staging names and before they are renamed into place: the record is the commit
 * point of the flush. Recovery renames any staged file a record names (roll forward), so a crash
 * between the record and the renames neither loses nor duplicates rows.
 *
 * Coverage is a prefix per (stream, database, measurement): a writer receives one stream's
 * entries for one measurement in seq order and a flush takes everything buffered, so "up to n"
 * is exact. A journal over JOURNAL_COMPACT_BYTES is rewritten as one snapshot record.
 */
const JOURNAL_NAME = /^flushed-w(\d{3})\.journal$/;

export interface StagedFile {
  readonly staging: string;
  readonly key: string;
}

export interface FlushRecord {
  readonly database: string;
  readonly measurement: string;
  /** [stream, seq max] pairs. */
  readonly covers: readonly (readonly [number, number])[];
  readonly files: readonly StagedFile[];
}

type JournalPayload =
  | { readonly flush: FlushRecord }
  | { readonly snapshot: readonly (readonly [number, string, string, number])[] };

export function journalFileName(writerIndex: number): string {
  return `flushed-w${String(writerIndex).padStart(3, '0')}.journal`;
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** What the journals of a WAL directory say. */
export interface JournalState {
  /** coverageKey -> highest seq of that stream in durable Parquet for that measurement. */
  readonly coverage: Map<string, number>;
  /** Files named by flush records (for roll forward: staged ones are renamed into place). */
  readonly files: StagedFile[];
  /** Torn tails cut off (a crash during a record's write: that flush was never committed). */
  readonly truncated: { readonly path: string; readonly offset: number; readonly reason: string }[];
}

function applyPayload(state: JournalState, payload: JournalPayload): void {
  if ('snapshot' in payload) {
    for (const [stream, database, measurement, seq] of payload.snapshot) raiseCoverage(state.coverage, coverageKey(stream, database, measurement), seq);
    return;
  }
  const { database, measurement, covers, files } = payload.flush;
  for (const [stream, seq] of covers) raiseCoverage(state.coverage, coverageKey(stream, database, measurement), seq);
  state.files.push(...files);
}

function raiseCoverage(coverage: Map<string, number>, key: string, seq: number): void {
  if (coveredSeqOf(coverage, key) < seq) coverage.set(key, seq);
}

/** Reads one journal file into `state`, cutting a torn tail off the file. */
function readJournalInto(state: JournalState, journalPath: string): void {
  const contents = readLogFileSync(journalPath);
  if (contents.tail !== null) {
    state.truncated.push({ path: journalPath, offset: contents.tail.offset, reason: contents.tail.reason });
    if (contents.headerProblem !== null) {
      rewriteJournal(journalPath, []);
      return;
    }
    truncateFileSync(journalPath, contents.validBytes);
  }
  for (const entry of contents.entries) applyPayload(state, JSON.parse(fromUtf8.decode(entry.payload)) as JournalPayload);
}

/** Reads every writer's journal in `directory` (torn tails are cut off the files). */
export function readJournalsSync(directory: string): JournalState {
  const state: JournalState = { coverage: new Map(), files: [], truncated: [] };
  for (const name of readdirSync(directory).sort()) {
    if (JOURNAL_NAME.test(name)) readJournalInto(state, path.join(directory, name));
  }
  return state;
}

/** Replaces a journal atomically with one holding `records` (temp file, fsync, rename, fsync dir). */
function rewriteJournal(journalPath: string, payloads: readonly JournalPayload[]): number {
  const temporary = `${journalPath}.tmp`;
  const fd = openSync(temporary, 'w');
  let bytes = 0;
  try {
    const parts = [encodeFileHeader(), ...payloads.map((payload) => encodeEntry(Date.now() * 1000, utf8.encode(JSON.stringify(payload))))];
    for (const part of parts) bytes += writeSync(fd, part, 0, part.byteLength, bytes);
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, journalPath);
  syncDirectory(path.dirname(journalPath));
  return bytes;
}

/** The writing side of one writer's journal. */
export class FlushJournal {
  readonly path: string;
  private fd: number;
  private bytes: number;
  /** Everything this journal covers, kept so a compaction can write it as one snapshot. */
  private readonly coverage: Map<string, number>;

  private constructor(journalPath: string, fd: number, bytes: number, coverage: Map<string, number>) {
    this.path = journalPath;
    this.fd = fd;
    this.bytes = bytes;
    this.coverage = coverage;
  }

  /** Opens (or creates) writer `writerIndex`'s journal in `directory`. */
  static openSync(directory: string, writerIndex: number): FlushJournal {
    const journalPath = path.join(directory, journalFileName(writerIndex));
    if (!existsSync(journalPath)) rewriteJournal(journalPath, []);
    const state: JournalState = { coverage: new Map(), files: [], truncated: [] };
    readJournalInto(state, journalPath);
    const bytes = readLogFileSync(journalPath).validBytes;
    return new FlushJournal(journalPath, openSync(journalPath, 'r+'), bytes, state.coverage);
  }

  /** Appends and syncs one flush record: after it returns, the flush is committed. */
  recordSync(record: FlushRecord): void {
    assert.ok(this.fd >= 0, 'journal is open');
    assert.ok(this.bytes >= FILE_HEADER_BYTES, 'journal has its header');
    const entry = encodeEntry(Date.now() * 1000, utf8.encode(JSON.stringify({ flush: record } satisfies JournalPayload)));
    let written = 0;
    try {
      while (written < entry.byteLength) written += writeSync(this.fd, entry, written, entry.byteLength - written, this.bytes + written);
      fdatasyncSync(this.fd);
    } catch (error) {
      // A partial record is a torn tail: recovery would cut it, but cut it now so later records follow a valid one.
      truncateFileSync(this.path, this.bytes);
      throw error;
    }
    this.bytes += entry.byteLength;
    for (const [stream, seq] of record.covers) raiseCoverage(this.coverage, coverageKey(stream, record.database, record.measurement), seq);
  }

  /**
   * Rewrites a journal grown past JOURNAL_COMPACT_BYTES as one snapshot of its coverage, followed
   * by the records of flushes whose files are not all published yet (`unpublished`: a snapshot
   * names no files, and recovery must still roll those forward). Every other record's files must
   * be in place.
   */
  compactIfDue(unpublished: readonly FlushRecord[] = []): void {
    if (this.bytes > JOURNAL_COMPACT_BYTES) this.compact(unpublished);
  }

  close(): void {
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
  }

  private compact(unpublished: readonly FlushRecord[]): void {
    const snapshot = [...this.coverage].map(([key, seq]) => {
      const [stream, database, measurement] = key.split('/');
      assert.ok(stream !== undefined && database !== undefined && measurement !== undefined, 'coverage keys have three parts');
      return [Number(stream), database, measurement, seq] as const;
    });
    closeSync(this.fd);
    this.bytes = rewriteJournal(this.path, [{ snapshot }, ...unpublished.map((flush) => ({ flush }))]);
    this.fd = openSync(this.path, 'r+');
  }
}
