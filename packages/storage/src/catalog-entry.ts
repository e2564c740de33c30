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
 * A file as the catalog keeps it: its numbers, its write order (the name's first three fields)
 * and a shared shape; its key is derived when asked for, from the layout's naming (layout.ts):
 *
 *   <keyPrefix><partition path of span and hourUs>/<order>_<rows>r_<bytes>b_<minTimeUs>_<maxTimeUs>[_<schemaId>].parquet
 *
 * A file whose key is not that (named before this naming, or its name's size is not the size the
 * catalog was given) keeps its key as given (`keyText`). An entry is a CatalogFile to its users:
 * the fields they read are own fields or getters on the class. ~170 heap bytes per file against
 * ~620 for a plain object with its key and parsed name facts (docs/benchmarks.md).
 */
export class CatalogEntry implements CatalogFile {
  shape: FileShape;
  /**
   * The partition's start when the rows' first time does not give it (it always does for files
   * named by the layout); null otherwise: a number that large is a boxed double, 24 bytes.
   */
  private readonly hourGiven: number | null;
  readonly minTimeUs: number;
  readonly maxTimeUs: number;
  readonly rows: number | null;
  readonly bytes: number;
  readonly order: string | null;
  /** The key when the naming does not give it back exactly; null when it does. */
  readonly keyText: string | null;

  constructor(shape: FileShape, file: CatalogFile) {
    this.shape = shape;
    this.hourGiven = partitionStartUs(file.span, file.minTimeUs) === file.hourUs ? null : file.hourUs;
    this.minTimeUs = file.minTimeUs;
    this.maxTimeUs = file.maxTimeUs;
    this.rows = file.rows;
    this.bytes = file.bytes;
    this.order = file.order === null ? null : ownCopy(file.order);
    this.keyText = this.order !== null && this.derivedKey() === file.key ? null : ownCopy(file.key);
  }

  get hourUs(): number {
    return this.hourGiven ?? partitionStartUs(this.shape.span, this.minTimeUs);
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

  get key(): string {
    return this.keyText ?? this.derivedKey();
  }

  /** What the catalog's index knows the entry by: its order, unless its key had to be kept. */
  get identity(): string {
    return this.keyText ?? this.order ?? '';
  }

  /** A plain copy, for a structured clone (a snapshot sent to a query thread): getters do not travel. */
  toPlain(): CatalogFile {
    const { database, measurement, hourUs, span, rows, bytes, minTimeUs, maxTimeUs, nodeId, schemaId, order, key, columns } = this;
    return { database, measurement, hourUs, span, rows, bytes, minTimeUs, maxTimeUs, nodeId, schemaId, order, key, columns };
  }

  private derivedKey(): string {
    const shape = this.shape;
    const schema = shape.schemaId === null ? '' : `_${shape.schemaId}`;
    return `${shape.keyPrefix}${partitionPath(shape.span, this.hourUs)}/${this.order ?? ''}_${String(this.rows)}r_${String(this.bytes)}b_${String(this.minTimeUs)}_${String(this.maxTimeUs)}${schema}${PARQUET_SUFFIX}`;
  }
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
  if (left.keyText === null && right.keyText === null && left.shape.span === right.shape.span && left.order !== null && right.order !== null) {
    const byOrder = compareOrdersInName(left.order, right.order);
    if (byOrder !== 0) return byOrder;
  }
  const leftKey = left.key;
  const rightKey = right.key;
  return leftKey < rightKey ? -1 : leftKey > rightKey ? 1 : 0;
}
