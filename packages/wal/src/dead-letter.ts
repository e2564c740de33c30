import assert from 'node:assert/strict';
import { closeSync, existsSync, fdatasyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { readdir, stat } from 'node:fs/promises';
import { STREAM_ID_MAX } from './limits.js';
import { parseLogBytes } from './segment-reader.js';
import { decodeRequestEnvelope, encodeEntry, encodeFileHeader } from './wal-format.js';
import { syncDirectory } from './wal-stream.js';
import { WalErrorCode } from './error-codes.js';

/**
 * Dead letters: acknowledged WAL entries that replay could not apply, kept instead of dropped.
 * They live in `<wal dir>/dead-letter/`, which segment deletion and cleanup never touch:
 *
 *   `<stream>-<seq>.entry`  the WAL file format holding the one entry, byte for byte as it was in
 *                           its segment (length, timestamp, CRC32, payload): checked on read.
 *   `<stream>-<seq>.json`   why: the refusal's code and message, and when (written first; the
 *                           entry's rename is the commit point, a sidecar alone is ignored).
 *
 * The name is the entry's identity (stream 3 digits, seq 16 digits, as segment names), so a
 * replay that meets the same entry again (its segment was kept because the final flush failed)
 * finds it already there. Recovery raises each stream's next seq above its dead letters, so a
 * new entry never takes a dead letter's name.
 */
export const DEAD_LETTER_DIRECTORY = 'dead-letter';
const DEAD_LETTER_ID = /^(\d{3})-(\d{16})$/;
const ENTRY_SUFFIX = '.entry';
const SIDECAR_SUFFIX = '.json';
const SEQ_DIGITS = 16;

/** Why an entry was not applied (an ArcError's code and message). */
export interface DeadLetterReason {
  readonly code: string;
  readonly message: string;
}

/** What a dead-letter entry is, as listed. Envelope fields are null when the payload is unreadable. */
export interface DeadLetter {
  readonly id: string;
  readonly stream: number;
  readonly seq: number;
  /** The request's arrival time (the entry timestamp), epoch microseconds. */
  readonly timestampUs: number;
  readonly database: string | null;
  readonly format: number | null;
  readonly precision: number | null;
  /** Bytes of the request body; 0 when the payload is unreadable (entryBytes still says its size). */
  readonly bodyBytes: number;
  readonly entryBytes: number;
  readonly reason: DeadLetterReason;
  /** ISO time of the refusal. */
  readonly deadLetteredAt: string;
  /**
   * Measurements of the entry whose rows were already in Parquet when it was refused (a flush
   * covered them before the crash): re-applying the whole request would write them twice.
   */
  readonly alreadyInParquet: readonly string[];
}

/** The entry to keep: where it was and its payload (the segment's bytes). */
export interface DeadLetterEntry {
  readonly stream: number;
  readonly seq: number;
  readonly timestampUs: number;
  readonly payload: Uint8Array;
}

export function deadLetterDirectory(walDirectory: string): string {
  return path.join(walDirectory, DEAD_LETTER_DIRECTORY);
}

export function deadLetterId(stream: number, seq: number): string {
  assert.ok(Number.isInteger(stream) && stream >= 0 && stream <= STREAM_ID_MAX, 'stream id has 3 digits');
  assert.ok(Number.isSafeInteger(seq) && seq >= 1, 'sequence numbers start at 1');
  return `${String(stream).padStart(3, '0')}-${String(seq).padStart(SEQ_DIGITS, '0')}`;
}

/** Stream and seq of a well-formed id, else null (ids come from HTTP bodies: never a path). */
export function parseDeadLetterId(id: string): { readonly stream: number; readonly seq: number } | null {
  const match = DEAD_LETTER_ID.exec(id);
  if (match === null || Number(match[2]) < 1) return null;
  return { stream: Number(match[1]), seq: Number(match[2]) };
}

function writeFileDurably(filePath: string, parts: readonly Uint8Array[]): void {
  const temporary = `${filePath}.tmp`;
  const fd = openSync(temporary, 'w');
  try {
    let offset = 0;
    for (const part of parts) {
      for (let written = 0; written < part.byteLength; ) written += writeSync(fd, part, written, part.byteLength - written, offset + written);
      offset += part.byteLength;
    }
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, filePath);
}

export function hasDeadLetterSync(walDirectory: string, id: string): boolean {
  return existsSync(path.join(deadLetterDirectory(walDirectory), `${id}${ENTRY_SUFFIX}`));
}

/**
 * Keeps `entry` as a dead letter, durably (files and directory synced) before it returns: the
 * caller may then treat the entry as handled. False when that entry is already a dead letter.
 */
export function writeDeadLetterSync(walDirectory: string, entry: DeadLetterEntry, reason: DeadLetterReason, alreadyInParquet: readonly string[] = [], nowMs: number = Date.now()): boolean {
  const directory = deadLetterDirectory(walDirectory);
  const id = deadLetterId(entry.stream, entry.seq);
  const entryPath = path.join(directory, `${id}${ENTRY_SUFFIX}`);
  if (existsSync(entryPath)) return false;
  mkdirSync(directory, { recursive: true });
  const sidecar = { stream: entry.stream, seq: entry.seq, timestamp_us: entry.timestampUs, error: { code: reason.code, message: reason.message }, dead_lettered_at: new Date(nowMs).toISOString(), already_in_parquet: alreadyInParquet };
  writeFileDurably(path.join(directory, `${id}${SIDECAR_SUFFIX}`), [new TextEncoder().encode(`${JSON.stringify(sidecar, null, 2)}\n`)]);
  writeFileDurably(entryPath, [encodeFileHeader(), encodeEntry(entry.timestampUs, entry.payload)]);
  syncDirectory(directory);
  syncDirectory(walDirectory);
  return true;
}

/** The dead letter's entry, checked against its CRC32; null when there is no such dead letter. */
export function readDeadLetterSync(walDirectory: string, id: string): { readonly timestampUs: number; readonly payload: Uint8Array } | string | null {
  assert.ok(parseDeadLetterId(id) !== null, 'a well-formed dead-letter id');
  const entryPath = path.join(deadLetterDirectory(walDirectory), `${id}${ENTRY_SUFFIX}`);
  if (!existsSync(entryPath)) return null;
  const contents = parseLogBytes(readFileSync(entryPath));
  const [entry] = contents.entries;
  if (contents.tail !== null || entry === undefined || contents.entries.length !== 1) return `dead-letter file ${entryPath} is damaged (${contents.tail?.reason ?? 'not exactly one entry'})`;
  return { timestampUs: entry.timestampUs, payload: entry.payload };
}

/** Removes a dead letter (it was applied): the entry first, so a crash leaves at most a sidecar. */
export function removeDeadLetterSync(walDirectory: string, id: string): void {
  assert.ok(parseDeadLetterId(id) !== null, 'a well-formed dead-letter id');
  const directory = deadLetterDirectory(walDirectory);
  for (const suffix of [ENTRY_SUFFIX, SIDECAR_SUFFIX]) {
    const filePath = path.join(directory, `${id}${suffix}`);
    if (existsSync(filePath)) unlinkSync(filePath);
  }
  syncDirectory(directory);
}

/** A sidecar as read back: writeDeadLetterSync writes every field, but a damaged or hand-edited file may lack any. */
interface SidecarJson {
  readonly error?: { readonly code?: unknown; readonly message?: unknown };
  readonly dead_lettered_at?: unknown;
  readonly already_in_parquet?: unknown;
}

/** A text field of the sidecar, or `missing` when the file lacks it (or holds something else there). */
function sidecarText(value: unknown, missing: string): string {
  return typeof value === 'string' ? value : missing;
}

function readSidecar(sidecarPath: string): { reason: DeadLetterReason; deadLetteredAt: string; alreadyInParquet: string[] } {
  try {
    const sidecar = JSON.parse(readFileSync(sidecarPath, 'utf8')) as SidecarJson;
    const alreadyInParquet = Array.isArray(sidecar.already_in_parquet) ? sidecar.already_in_parquet.map(String) : [];
    // Without a message or a time the listing shows them empty; without a code, unknownReason.
    const reason = { code: sidecarText(sidecar.error?.code, WalErrorCode.unknownReason), message: sidecarText(sidecar.error?.message, '') };
    return { reason, deadLetteredAt: sidecarText(sidecar.dead_lettered_at, ''), alreadyInParquet };
  } catch {
    return { reason: { code: WalErrorCode.unknownReason, message: 'the sidecar file is missing or unreadable' }, deadLetteredAt: '', alreadyInParquet: [] };
  }
}

function describeDeadLetter(walDirectory: string, id: string): DeadLetter | null {
  const parsed = parseDeadLetterId(id);
  assert.ok(parsed !== null);
  const read = readDeadLetterSync(walDirectory, id);
  if (read === null) return null; // removed since the listing
  const entryBytes = statSync(path.join(deadLetterDirectory(walDirectory), `${id}${ENTRY_SUFFIX}`)).size;
  const { reason, deadLetteredAt, alreadyInParquet } = readSidecar(path.join(deadLetterDirectory(walDirectory), `${id}${SIDECAR_SUFFIX}`));
  const envelope = typeof read === 'string' ? read : decodeRequestEnvelope(read.payload);
  const known = typeof envelope === 'string' ? null : envelope;
  return {
    id,
    stream: parsed.stream,
    seq: parsed.seq,
    timestampUs: typeof read === 'string' ? 0 : read.timestampUs,
    database: known?.database ?? null,
    format: known?.format ?? null,
    precision: known?.precision ?? null,
    bodyBytes: known === null ? 0 : known.body.byteLength,
    entryBytes,
    reason,
    deadLetteredAt,
    alreadyInParquet,
  };
}

/** Ids of the dead letters in a WAL directory, oldest stream/seq first. */
export function listDeadLetterIdsSync(walDirectory: string): string[] {
  let names: string[];
  try {
    names = readdirSync(deadLetterDirectory(walDirectory));
  } catch {
    return []; // no dead letter was ever written
  }
  return names
    .filter((name) => name.endsWith(ENTRY_SUFFIX) && parseDeadLetterId(name.slice(0, -ENTRY_SUFFIX.length)) !== null)
    .map((name) => name.slice(0, -ENTRY_SUFFIX.length))
    .sort();
}

/** Every dead letter with its envelope and reason. */
export function listDeadLettersSync(walDirectory: string): DeadLetter[] {
  return listDeadLetterIdsSync(walDirectory).flatMap((id) => describeDeadLetter(walDirectory, id) ?? []);
}

/** Count and bytes of the dead letters (cheap: names and sizes only). */
export function deadLetterTotalsSync(walDirectory: string): { readonly entries: number; readonly bytes: number } {
  let bytes = 0;
  const ids = listDeadLetterIdsSync(walDirectory);
  for (const id of ids) {
    try {
      bytes += statSync(path.join(deadLetterDirectory(walDirectory), `${id}${ENTRY_SUFFIX}`)).size;
    } catch {
      // removed since the listing
    }
  }
  return { entries: ids.length, bytes };
}

/**
 * Count and bytes of the dead letters, off the calling thread (the HTTP routes' version of
 * deadLetterTotalsSync: the acceptor thread must not wait on the disk).
 */
export async function deadLetterTotals(walDirectory: string): Promise<{ readonly entries: number; readonly bytes: number }> {
  let names: string[];
  try {
    names = await readdir(deadLetterDirectory(walDirectory));
  } catch {
    return { entries: 0, bytes: 0 }; // no dead letter was ever written
  }
  const ids = names.filter((name) => name.endsWith(ENTRY_SUFFIX) && parseDeadLetterId(name.slice(0, -ENTRY_SUFFIX.length)) !== null);
  const sizes = await Promise.all(ids.map((name) => stat(path.join(deadLetterDirectory(walDirectory), name)).then((info) => info.size, () => 0)));
  return { entries: ids.length, bytes: sizes.reduce((sum, size) => sum + size, 0) };
}
