/**
 * Where Parquet files end up. A writer stages a file on local disk, then publishes it under its
 * key in one step (rename on local disk, a whole-object upload on S3), so readers never see a
 * partial file (an invariant of the storage layer). Keys are relative paths with forward slashes:
 * `<database>/<measurement>/YYYY/MM/DD/HH/<file>.parquet`.
 */
export interface StorageBackend {
  readonly kind: 'local';
  /** A local path where the file destined for `key` can be written (its directory exists). */
  stagingPathFor(key: string): Promise<string>;
  /** Makes the staged file visible under `key`, durably (the name survives a crash). */
  publish(stagingPath: string, key: string): Promise<void>;
  /** Removes a staged file that will not be published (a failed flush). */
  discard(stagingPath: string): Promise<void>;
}

/** Suffix of staged files; readers' globs match `*.parquet` only, so they never see these. */
export const STAGING_SUFFIX = '.tmp';
