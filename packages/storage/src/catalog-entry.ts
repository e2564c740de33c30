import type { CatalogFile, ColumnSpec } from './catalog.js';
import { PARQUET_SUFFIX, partitionPath, partitionStartUs, type PartitionSpan } from './layout.js';

/**
 * What files of a measurement have in common, kept once and shared by their entries: where their
 * keys start, their partition span, the node that wrote them, their schema id and column list.
 * A measurement has few (one per node, schema and span), so an entry holds one reference instead
 * of five strings: every copy of the catalog (the main thread's and each query thread's replica)
 * holds tens of thousands of entries after a long run of hourly partitions.
 */
export interface FileShape {
  readonly database: string;
  readonly measurement: string;
  /** `<database>/<measurement>/`: every key's start. */
  readonly keyPrefix: string;
  readonly span: PartitionSpan;
  readonly nodeId: string | null;
  readonly schemaId: string | null;
  readonly columns: readonly ColumnSpec[] | null;
}

/**
 * A copy of `text` that holds no part of a longer string: V8 keeps a slice of a string (what
 * `split`, a regex match and `slice` give) as a view of the whole, so an order cut out of a key
 * would keep the whole key alive, the very bytes an entry saves by not holding it.
 */
export function ownCopy(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}

/**
 * A time in µs as two small integers, `high * 2^30 + low` with `0 <= low < 2^30`: V8 keeps a
 * small integer (within ±2^30 in every build) in the object's field itself, while a larger number,
 * as every µs time since 1970 is, is a boxed double of its own (16 bytes besides the field).
 * Exact for every safe integer (CompactEntry.describes checks).
 */
const TIME_SPLIT = 2 ** 30;

/** A file as the catalog keeps it (CompactEntry, or KeptEntry for a file the naming does not describe). */
export interface CatalogEntry extends CatalogFile {
  shape: FileShape;
  /** What the catalog's index knows the entry by: its order, or its key when the key is kept. */
  readonly identity: string;
  /** A plain copy, for a structured clone (a snapshot sent to a query thread): getters do not travel. */
  toPlain(): CatalogFile;
}

function plainOf(entry: CatalogEntry): CatalogFile {
  const { database, measurement, hourUs, span, rows, bytes, minTimeUs, maxTimeUs, nodeId, schemaId, order, key, columns } = entry;
  return { database, measurement, hourUs, span, rows, bytes, minTimeUs, maxTimeUs, nodeId, schemaId, order, key, columns };
}

/** What every entry reads from its measurement's shared shape (one object for many files). */
abstract class ShapedEntry {
  shape: FileShape;

  constructor(shape: FileShape) {
    this.shape = shape;
  }

  get database(): string {
    return this.shape.database;
  }

  get measurement(): string {
    return this.shape.measurement;
  }

  get span(): PartitionSpan {
    return this.shape.span;
  }

  get nodeId(): string | null {
    return this.shape.nodeId;
  }

  get schemaId(): string | null {
    return this.shape.schemaId;
  }

  get columns(): readonly ColumnSpec[] | null {
    return this.shape.columns;
  }
}

/**
 * A file named by the layout, kept as its numbers (time bounds as small integers, rows, size),
 * its write order (the name's first three fields) and a shared shape; its key is derived when
 * asked for, from the layout's naming (layout.ts):
 *
 *   <keyPrefix><partition path of span and hourUs>/<order>_<rows>r_<bytes>b_<minTimeUs>_<maxTimeUs>[_<schemaId>].parquet
 *
 * and its partition start from its first row's time. An entry is a CatalogFile to its users: the
 * fields they read are own fields or getters. ~213 heap bytes per file against ~620 for a plain
 * object with its key and parsed name facts (docs/benchmarks.md).
 */
class CompactEntry extends ShapedEntry implements CatalogEntry {
  private readonly minHigh: number;
  private readonly minLow: number;
  private readonly maxHigh: number;
  private readonly maxLow: number;
  readonly rows: number | null;
  readonly bytes: number;
  readonly order: string;

  constructor(shape: FileShape, file: CatalogFile, order: string) {
    super(shape);
    this.minHigh = Math.floor(file.minTimeUs / TIME_SPLIT);
    this.minLow = file.minTimeUs - this.minHigh * TIME_SPLIT;
    this.maxHigh = Math.floor(file.maxTimeUs / TIME_SPLIT);
    this.maxLow = file.maxTimeUs - this.maxHigh * TIME_SPLIT;
    this.rows = file.rows;
    this.bytes = file.bytes;
    this.order = order;
  }

  get minTimeUs(): number {
    return this.minHigh * TIME_SPLIT + this.minLow;
  }

  get maxTimeUs(): number {
    return this.maxHigh * TIME_SPLIT + this.maxLow;
  }

  get hourUs(): number {
    return partitionStartUs(this.shape.span, this.minTimeUs);
  }

  get key(): string {
    const shape = this.shape;
    const schema = shape.schemaId === null ? '' : `_${shape.schemaId}`;
    return `${shape.keyPrefix}${partitionPath(shape.span, this.hourUs)}/${this.order}_${String(this.rows)}r_${String(this.bytes)}b_${String(this.minTimeUs)}_${String(this.maxTimeUs)}${schema}${PARQUET_SUFFIX}`;
  }

  get identity(): string {
    return this.order;
  }

  /** True when every fact and the key come back as given (else the file is kept whole: KeptEntry). */
  describes(file: CatalogFile): boolean {
    return this.minTimeUs === file.minTimeUs && this.maxTimeUs === file.maxTimeUs && this.hourUs === file.hourUs && this.key === file.key;
  }

  toPlain(): CatalogFile {
    return plainOf(this);
  }
}

/**
 * A file whose key or facts the naming does not give back (named before it, a size that is not
 * its name's, bounds past 2^53 µs), kept as given but for its columns, which come from its shape.
 */
class KeptEntry extends ShapedEntry implements CatalogEntry {
  private readonly file: CatalogFile;

  constructor(shape: FileShape, file: CatalogFile) {
    super(shape);
    this.file = { ...file, key: ownCopy(file.key), columns: null };
  }

  get key(): string {
    return this.file.key;
  }

  get hourUs(): number {
    return this.file.hourUs;
  }

  get minTimeUs(): number {
    return this.file.minTimeUs;
  }

  get maxTimeUs(): number {
    return this.file.maxTimeUs;
  }

  get rows(): number | null {
    return this.file.rows;
  }

  get bytes(): number {
    return this.file.bytes;
  }

  get order(): string | null {
    return this.file.order;
  }

  get identity(): string {
    return this.file.key;
  }

  toPlain(): CatalogFile {
    return plainOf(this);
  }
}

/** The entry of a file with `shape` (its span, node, schema id and columns). */
export function catalogEntry(shape: FileShape, file: CatalogFile): CatalogEntry {
  if (file.order !== null) {
    const compact = new CompactEntry(shape, file, ownCopy(file.order));
    if (compact.describes(file)) return compact;
  }
  return new KeptEntry(shape, file);
}

/** The identity under which an entry of `key` is indexed when its key is derived: the name's first three fields. */
export function derivedIdentityOf(key: string): string | null {
  const nameStart = key.lastIndexOf('/') + 1;
  let end = nameStart;
  for (let field = 0; field < 3; field++) {
    end = key.indexOf('_', end) + 1;
    if (end === 0) return null;
  }
  return key.slice(nameStart, end - 1);
}

/**
 * Orders `left` against an order followed by `_` (how it continues in a key), as the keys compare
 * when everything before the name is equal: a shorter order that is a prefix of the longer one
 * is followed by `_` where the longer one goes on.
 */
function compareOrdersInName(left: string, right: string): number {
  const length = Math.min(left.length, right.length);
  for (let index = 0; index < length; index++) {
    const difference = left.charCodeAt(index) - right.charCodeAt(index);
    if (difference !== 0) return difference;
  }
  if (left.length === right.length) return 0;
  const underscore = '_'.charCodeAt(0);
  return left.length < right.length ? underscore - right.charCodeAt(length) : left.charCodeAt(length) - underscore;
}

/**
 * Hour, then key order, as `a.key < b.key` would give, without deriving keys in the common case:
 * entries of one hour and span share everything before the name, whose first fields are the order.
 */
export function compareEntries(left: CatalogEntry, right: CatalogEntry): number {
  const hourDifference = left.hourUs - right.hourUs;
  if (hourDifference !== 0) return hourDifference;
  // Derived keys of one partition differ first where their orders do.
  if (left instanceof CompactEntry && right instanceof CompactEntry && left.shape.span === right.shape.span) {
    const byOrder = compareOrdersInName(left.order, right.order);
    if (byOrder !== 0) return byOrder;
  }
  const leftKey = left.key;
  const rightKey = right.key;
  return leftKey < rightKey ? -1 : leftKey > rightKey ? 1 : 0;
}
