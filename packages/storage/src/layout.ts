import assert from 'node:assert/strict';
import { validateDatabaseName, validateMeasurementName } from '@arc/columnar';
import { SCHEMA_ID_PATTERN } from './schema-objects.js';

/**
 * The one description of where Arc's files live (docs/architecture.md, Storage). Keys are
 * relative paths with forward slashes, the same on local disk and in an object store:
 *
 *   <database>/<measurement>/YYYY/MM/DD/HH/<file>.parquet
 *
 * one directory per UTC hour of the rows' time (a file never spans two hours); compaction's daily
 * tier writes day files, `<database>/<measurement>/YYYY/MM/DD/<file>.parquet`, which never span two
 * days (a file's partition: its hour or its day, `span`). A file's name
 * carries what the catalog needs besides its size, so a listing alone rebuilds the catalog:
 *
 *   <YYYYMMDDTHHMMSS>_<node>_<unique>_<rows>r_<bytes>b_<min time µs>_<max time µs>_<schema id>.parquet
 *
 * (written when, by which node, unique within the node, rows, size, bounds of the rows' time, and
 * the id of its column set, kept once per measurement as a schema object: schema-objects.ts), so
 * a local listing needs no stat per file and no footer read. Names without the schema id (written
 * before it) load with their columns unknown. Files written before this naming
 * (`<measurement>_<stamp>_<unique>.parquet`) still load: their rows are unknown, their size is
 * read from the store and their time bounds are their hour's.
 */

export const PARQUET_SUFFIX = '.parquet';
/** Suffix of staged files: never a `*.parquet` key, so listings and readers never see them. */
export const STAGING_SUFFIX = '.tmp';
/** Suffix of an object store download under way (S3Storage.download): the file cache deletes those a dead process left. */
export const DOWNLOAD_SUFFIX = '.download';
export const MICROS_PER_HOUR = 3_600_000_000;
export const MICROS_PER_DAY = 24 * MICROS_PER_HOUR;
/** Directory levels of a partition below a measurement: year, month, day, hour, and their digits. */
const PARTITION_DIGITS = [4, 2, 2, 2] as const;
/** What a file's directory covers: an hour (flushes, live and hourly compaction) or a day (daily compaction). */
export type PartitionSpan = 'hour' | 'day';
/** Marks the unique field of a compacted file: `<unique of its newest input, writer part>-c<random>`. */
const COMPACTED_MARK = '-c';
/** Fields of a writer's unique (`w<writer>-<sequence>-<random>`): the part a compacted file keeps. */
const WRITER_UNIQUE_FIELDS = 3;
/** Node ids are short, lower-case and path-safe (they sit in every file name). */
export const NODE_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,31}$/;
const FILE_NAME_PATTERN = /^(\d{8}T\d{6})_([a-z0-9][a-z0-9-]{0,31})_([a-z0-9-]{1,64})_(\d{1,15})r_(\d{1,15})b_(-?\d{1,17})_(-?\d{1,17})(?:_([0-9a-f]{16}))?\.parquet$/;

/** What a data file's key says about it. `rows` null: a file named before row counts were in names. */
export interface FileKeyFacts {
  readonly database: string;
  readonly measurement: string;
  /** Start of the file's partition (its UTC hour, or its UTC day for a day file), µs since the epoch. */
  readonly hourUs: number;
  readonly span: PartitionSpan;
  readonly rows: number | null;
  /** The file's size; null when the name does not say (read it from the store). */
  readonly bytes: number | null;
  /** Bounds of the rows' time, µs (inclusive); the hour's bounds when the name does not say. */
  readonly minTimeUs: number;
  readonly maxTimeUs: number;
  /** The node that wrote it; null for files named before node ids. */
  readonly nodeId: string | null;
  /** The id of its columns' schema object (schema-objects.ts); null for files named without one. */
  readonly schemaId: string | null;
  /**
   * Its place in the measurement's write order (`<when>_<node>_<unique>`, compared as text: a
   * later write sorts after, compareWriteOrder); null for files named before node ids (oldest).
   */
  readonly order: string | null;
}

function pad(value: number, digits: number): string {
  return String(value).padStart(digits, '0');
}

/** Start of the UTC hour containing `micros`. */
export function hourStartUs(micros: number): number {
  return Math.floor(micros / MICROS_PER_HOUR) * MICROS_PER_HOUR;
}

/**
 * The last microsecond of the hour starting at `hourUs`, as a double below the next hour's start.
 * Beyond ±2^53 µs (years before 1684 or after 2255) `hourUs + MICROS_PER_HOUR - 1` rounds up to the
 * next hour's start, which would put a file's upper bound in the next hour: one unit in the last
 * place below it is taken instead (the bounds of such files are approximate by that unit).
 */
export function hourLastUs(hourUs: number): number {
  const nextHourUs = hourUs + MICROS_PER_HOUR;
  const exact = nextHourUs - 1;
  if (exact < nextHourUs) return exact;
  const unitInLastPlace = 2 ** (Math.floor(Math.log2(Math.abs(nextHourUs))) - 52);
  const last = nextHourUs - unitInLastPlace;
  assert.ok(last < nextHourUs && last >= hourUs, 'the hour has a last representable microsecond');
  return last;
}

/** Start of the UTC day containing `micros`. */
export function dayStartUs(micros: number): number {
  return Math.floor(micros / MICROS_PER_DAY) * MICROS_PER_DAY;
}

export function spanMicros(span: PartitionSpan): number {
  return span === 'hour' ? MICROS_PER_HOUR : MICROS_PER_DAY;
}

/** Start of the partition of `span` containing `micros`. */
export function partitionStartUs(span: PartitionSpan, micros: number): number {
  return span === 'hour' ? hourStartUs(micros) : dayStartUs(micros);
}

/** `YYYY/MM/DD/HH` of the UTC hour containing `micros`: the partition directory below a measurement. */
export function hourPartitionPath(micros: number): string {
  const date = new Date(Math.floor(micros / 1000));
  return `${pad(date.getUTCFullYear(), 4)}/${pad(date.getUTCMonth() + 1, 2)}/${pad(date.getUTCDate(), 2)}/${pad(date.getUTCHours(), 2)}`;
}

const STORAGE_KEY_PATTERN = /^[A-Za-z0-9_\-./]+$/;

/** Asserts `key` is a storage key both backends can hold: path-safe characters, never a `..` part. */
export function assertStorageKey(key: string): void {
  assert.ok(STORAGE_KEY_PATTERN.test(key), `storage key has unexpected characters: ${key}`);
  assert.ok(!key.split('/').includes('..'), 'storage key escapes the root');
}

export function databasePrefix(database: string): string {
  return `${database}/`;
}

export function measurementPrefix(database: string, measurement: string): string {
  return `${database}/${measurement}/`;
}

/** The directory key (no trailing slash) of the hour holding `timeUs`. */
export function partitionKey(database: string, measurement: string, timeUs: number): string {
  return `${database}/${measurement}/${hourPartitionPath(timeUs)}`;
}

/** `YYYY/MM/DD/HH` (hour) or `YYYY/MM/DD` (day) of the partition of `span` holding `micros`. */
export function partitionPath(span: PartitionSpan, micros: number): string {
  const hourPath = hourPartitionPath(micros);
  return span === 'hour' ? hourPath : hourPath.slice(0, -3);
}

/** The directory key of the partition of `span` holding `timeUs`. */
export function spanPartitionKey(database: string, measurement: string, span: PartitionSpan, timeUs: number): string {
  return `${database}/${measurement}/${partitionPath(span, timeUs)}`;
}

/** `YYYYMMDDTHHMMSS` in UTC: when a file was written. */
function compactStamp(epochMs: number): string {
  const date = new Date(epochMs);
  return (
    `${pad(date.getUTCFullYear(), 4)}${pad(date.getUTCMonth() + 1, 2)}${pad(date.getUTCDate(), 2)}T` +
    `${pad(date.getUTCHours(), 2)}${pad(date.getUTCMinutes(), 2)}${pad(date.getUTCSeconds(), 2)}`
  );
}

export interface NewFile {
  readonly database: string;
  readonly measurement: string;
  readonly hourUs: number;
  readonly nodeId: string;
  /** Unique among the node's files (a writer index, a sequence, a few random bytes). */
  readonly unique: string;
  readonly rows: number;
  readonly bytes: number;
  readonly minTimeUs: number;
  readonly maxTimeUs: number;
  readonly writtenAtMs: number;
  /** The id of the file's column set (schemaIdOf), stored as a schema object before the file. */
  readonly schemaId: string;
  /** A day file (daily compaction) when 'day'; an hour file when absent. */
  readonly span?: PartitionSpan;
}

/** The key of a new data file (see the naming above). */
export function dataFileKey(file: NewFile): string {
  assert.ok(NODE_ID_PATTERN.test(file.nodeId), 'node id is path-safe');
  assert.ok(/^[a-z0-9-]{1,64}$/.test(file.unique), 'unique part is path-safe');
  assert.ok(Number.isSafeInteger(file.rows) && file.rows >= 0, 'row count is a count');
  assert.ok(Number.isSafeInteger(file.bytes) && file.bytes >= 0, 'size is a count');
  assert.ok(file.minTimeUs <= file.maxTimeUs, 'time bounds are ordered');
  const span = file.span ?? 'hour';
  assert.equal(partitionStartUs(span, file.minTimeUs), file.hourUs, 'rows lie in the file partition');
  assert.ok(file.maxTimeUs < file.hourUs + spanMicros(span), 'rows lie in the file partition');
  assert.ok(SCHEMA_ID_PATTERN.test(file.schemaId), 'a schema id is 16 hex digits');
  const name = `${compactStamp(file.writtenAtMs)}_${file.nodeId}_${file.unique}_${String(file.rows)}r_${String(file.bytes)}b_${String(file.minTimeUs)}_${String(file.maxTimeUs)}_${file.schemaId}${PARQUET_SUFFIX}`;
  return `${spanPartitionKey(file.database, file.measurement, span, file.hourUs)}/${name}`;
}

/** The write position a file's name gives (`order` of FileKeyFacts), split into the fields a new name takes. */
export interface WritePosition {
  readonly writtenAtMs: number;
  readonly nodeId: string;
  readonly unique: string;
}

/** The write position of a key's file; null for files named before node ids. */
export function writePositionOf(key: string): WritePosition | null {
  const name = key.slice(key.lastIndexOf('/') + 1);
  const named = FILE_NAME_PATTERN.exec(name);
  if (named === null) return null;
  const stamp = named[1] as string;
  const writtenAtMs = Date.UTC(Number(stamp.slice(0, 4)), Number(stamp.slice(4, 6)) - 1, Number(stamp.slice(6, 8)), Number(stamp.slice(9, 11)), Number(stamp.slice(11, 13)), Number(stamp.slice(13, 15)));
  return { writtenAtMs, nodeId: named[2] as string, unique: named[3] as string };
}

/**
 * The unique field of a file that replaces inputs whose newest is at `newest`: its writer part
 * plus a mark and `random`, so with the newest input's time and node the new name sorts right
 * after the newest input and before anything written later (a writer's next unique differs in
 * the sequence field, before the mark). "Latest write wins" then holds across compactions.
 */
export function compactedUnique(newest: WritePosition, random: string): string {
  assert.ok(/^[a-z0-9]{1,16}$/.test(random), 'the random part is short and path-safe');
  const writerPart = newest.unique.split('-').slice(0, WRITER_UNIQUE_FIELDS).join('-');
  const unique = `${writerPart}${COMPACTED_MARK}${random}`;
  assert.ok(unique.length <= 64, 'a unique field is at most 64 characters');
  return unique;
}

/**
 * True when the key names a file compaction wrote: its unique field has a field past the writer
 * part, starting with the mark (a writer's own random field may start with `c` too).
 */
export function isCompactedKey(key: string): boolean {
  const fields = writePositionOf(key)?.unique.split('-') ?? [];
  return fields.length > WRITER_UNIQUE_FIELDS && `-${fields[WRITER_UNIQUE_FIELDS] ?? ''}`.startsWith(COMPACTED_MARK);
}

/**
 * Write order of two files of a measurement (negative: `left` was written first): by `order`,
 * files named without one first, then by key. Compaction merges inputs in this order.
 */
export function compareWriteOrder(left: { readonly order: string | null; readonly key: string }, right: { readonly order: string | null; readonly key: string }): number {
  if (left.order !== right.order) {
    if (left.order === null) return -1;
    if (right.order === null) return 1;
    return left.order < right.order ? -1 : 1;
  }
  return left.key < right.key ? -1 : left.key > right.key ? 1 : 0;
}

/** The hour start (µs) a `YYYY/MM/DD/HH` path names, or null when it is not a valid partition. */
function hourOfParts(parts: readonly string[]): number | null {
  if (parts.length !== PARTITION_DIGITS.length) return null;
  for (const [level, part] of parts.entries()) if (part.length !== PARTITION_DIGITS[level] || !/^[0-9]+$/.test(part)) return null;
  const [year, month, day, hour] = parts.map(Number) as [number, number, number, number];
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, 0, 0, 0);
  // Out-of-range parts (month 13, hour 24) roll over: such a directory was not written by Arc.
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day || date.getUTCHours() !== hour) return null;
  return date.getTime() * 1000;
}

/** What a key says, or null when it is not a data file of the layout (staged files, stray names). */
export function parseFileKey(key: string): FileKeyFacts | null {
  if (!key.endsWith(PARQUET_SUFFIX)) return null;
  const parts = key.split('/');
  // Hour files sit 4 directory levels below the measurement, day files 3.
  if (parts.length !== 7 && parts.length !== 6) return null;
  const span: PartitionSpan = parts.length === 7 ? 'hour' : 'day';
  const [database = '', measurement = ''] = parts;
  const name = parts.at(-1) ?? '';
  if (validateDatabaseName(database) !== null || validateMeasurementName(measurement) !== null) return null;
  const directoryParts = parts.slice(2, -1);
  const hourUs = hourOfParts(span === 'hour' ? directoryParts : [...directoryParts, '00']);
  if (hourUs === null) return null;
  const spanUs = spanMicros(span);
  const named = FILE_NAME_PATTERN.exec(name);
  if (named !== null) {
    const rows = Number(named[4]);
    const bytes = Number(named[5]);
    const minTimeUs = Number(named[6]);
    const maxTimeUs = Number(named[7]);
    if (minTimeUs <= maxTimeUs && partitionStartUs(span, minTimeUs) === hourUs && maxTimeUs < hourUs + spanUs) {
      const order = `${named[1] as string}_${named[2] as string}_${named[3] as string}`;
      return { database, measurement, hourUs, span, rows, bytes, minTimeUs, maxTimeUs, nodeId: named[2] ?? null, schemaId: named[8] ?? null, order };
    }
  }
  // Day files are always named with their facts: an unnamed one is not Arc's.
  if (span === 'day') return null;
  return { database, measurement, hourUs, span, rows: null, bytes: null, minTimeUs: hourUs, maxTimeUs: hourUs + MICROS_PER_HOUR - 1, nodeId: null, schemaId: null, order: null };
}
