/**
 * Where Arc's files are kept: the operations Arc needs from a store, shaped so that local disk
 * (LocalStorage, today) and an object store (S3, a second implementation) both fit. Keys are
 * relative paths with forward slashes (layout.ts).
 *
 * Writers stage a file on local disk, then publish it under its key in one step (a rename on
 * local disk, a whole or multipart upload to an object store), so readers never see a partial
 * file (an invariant of the storage layer).
 */
export interface StoredObject {
  readonly key: string;
  /** Null when the listing was asked not to read sizes (a local listing then skips a stat per file). */
  readonly size: number | null;
}

/** One page of a listing; `continuationToken` null: the last page. */
export interface ListPage {
  readonly objects: readonly StoredObject[];
  readonly continuationToken: string | null;
}

/** What lies directly under a prefix: an object store's listing with delimiter '/' (CommonPrefixes, Contents). */
export interface ListedChildren {
  /** Names (without the prefix or a trailing '/') of the "directories": prefixes holding objects. */
  readonly directories: readonly string[];
  /** Names of the objects directly under the prefix. */
  readonly objects: readonly string[];
}

/** Bytes `start` to `end` inclusive, as an HTTP Range. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/** An object's bytes with its version: an opaque text that changes with every write (an ETag). */
export interface VersionedObject {
  readonly bytes: Uint8Array;
  readonly version: string;
}

export interface StorageBackend {
  readonly kind: 'local' | 's3';
  /** The node writing through this backend: a field of every file name it writes (layout.ts). */
  readonly nodeId: string;
  /**
   * Objects whose key starts with `prefix`, in key order, at most `limit` per page; with
   * `sizes` false a backend may leave sizes out when reading them costs extra (local disk).
   */
  list(prefix: string, continuationToken: string | null, limit: number, sizes?: boolean): Promise<ListPage>;
  /** One level of the tree under `prefix` ('' or a prefix ending in '/'), sorted. */
  listChildren(prefix: string): Promise<ListedChildren>;
  /** When the object was last written, ms since the epoch; null when it does not exist. */
  modifiedAtMs(key: string): Promise<number | null>;
  /** The object's size in bytes; null when it does not exist. */
  sizeOf(key: string): Promise<number | null>;
  /** The object's bytes, or a range of them. */
  get(key: string, range?: ByteRange): Promise<Uint8Array>;
  /** Stores the whole object (an object store uploads large bodies in parts). */
  put(key: string, body: Uint8Array | AsyncIterable<Uint8Array>): Promise<void>;
  /** Stores the object only if no object has the key (If-None-Match: *); false when one had. */
  putIfAbsent(key: string, body: Uint8Array): Promise<boolean>;
  /** The object with its version; null when it does not exist. */
  getVersioned(key: string): Promise<VersionedObject | null>;
  /**
   * Replaces the object only if it is still at `version` (If-Match): false when another write
   * came between. With putIfAbsent, the compare-and-swap that leases and shared metadata need.
   */
  putIfVersion(key: string, body: Uint8Array, version: string): Promise<boolean>;
  /** Throws a clear error when the store cannot be read or written (start, /ready, /health). */
  check(): Promise<void>;
  /**
   * Removes the objects; keys that do not exist are not an error. In batches where the store has
   * them (S3's DeleteObjects: S3_DELETE_BATCH_MAX keys a request), so a job dropping many files
   * pays a round trip per batch, not per file. Not atomic: a failure or crash may leave any subset
   * deleted, so callers delete only what a committed replace manifest (or nothing) needs gone.
   */
  deleteMany(keys: readonly string[]): Promise<void>;
  /** Removes every object under `prefix` (a database or measurement). */
  deletePrefix(prefix: string): Promise<void>;
  /** A local path where a file bound for the directory `directoryKey` can be written (its directory exists). */
  stagingPathIn(directoryKey: string): Promise<string>;
  /** Makes a written staged file's bytes durable (fsync); returns its size in bytes. */
  sealStaged(stagingPath: string): Promise<number>;
  /** Makes the staged file visible under `key`, durably (the name survives a crash). */
  publish(stagingPath: string, key: string): Promise<void>;
  /** Removes a staged file that will not be published (a failed flush). */
  discard(stagingPath: string): Promise<void>;
  /** Where DuckDB reads the object (a local path; an s3:// URL for an object store). */
  locationOf(key: string): string;
}
