export { Storage } from './storage.js';
export type { CatalogEvent, DatabaseUsage, MeasurementUsage, PublishedFile, ReleaseFiles, Removed, Replacement, ReplacementStep, StagedReplacementFile, StorageOptions } from './storage.js';
export { FileCache } from './file-cache.js';
export type { CacheLease, CachedFileRequest, FetchFile, FileCacheOptions, FileCacheStats } from './file-cache.js';
export { REPLACED_DIRECTORY, decodeManifest, manifestKey, parseManifestKey } from './replacements.js';
export { FileCatalog } from './catalog.js';
export type { CatalogChange, CatalogDelta, CatalogFile, CatalogSnapshot, ColumnSpec, MeasurementTotals } from './catalog.js';
export { LocalStorage, fsyncDirectory } from './local-storage.js';
export { S3Storage, isTransientS3Error } from './s3-storage.js';
export { openStorageBackend, readableRootOf } from './open-backend.js';
export type { ByteRange, ListPage, ListedChildren, StorageBackend, StoredObject, VersionedObject } from './storage-backend.js';
export { SCHEMAS_DIRECTORY, decodeSchema, encodeSchema, parseSchemaKey, schemaIdOf, schemaKey } from './schema-objects.js';
export {
  MICROS_PER_DAY,
  MICROS_PER_HOUR,
  PARQUET_SUFFIX,
  STAGING_SUFFIX,
  compactedUnique,
  compareWriteOrder,
  dataFileKey,
  dayStartUs,
  hourLastUs,
  hourPartitionPath,
  hourStartUs,
  isCompactedKey,
  parseFileKey,
  partitionKey,
  partitionPath,
  partitionStartUs,
  spanMicros,
  spanPartitionKey,
  writePositionOf,
} from './layout.js';
export type { FileKeyFacts, NewFile, PartitionSpan, WritePosition } from './layout.js';
export { StorageErrorCode } from './error-codes.js';
export { NAME_CASE_CONFLICT_CODE, caseConflictError, caseVariantOf, foldName, queryableNames } from './names.js';
export { localNodeIdSync } from './node-id.js';
export { claimNamesSync, hasMeasurementDirectorySync, measurementDirectoryCountSync, releaseNamesSync } from './name-claim.js';
export type { DataDeleter } from './delete-tree.js';
