import type { StorageConfig } from '@arc/config';
import { LocalStorage } from './local-storage.js';
import { localNodeIdSync } from './node-id.js';
import { S3Storage } from './s3-storage.js';
import type { StorageBackend } from './storage-backend.js';

/**
 * The backend arc.conf names, as every thread opens it (main, writers, WAL recovery): local disk
 * under `<data>/arc`, or an S3-compatible bucket staged and cached under `<data>/cache`. The node
 * id is [cluster] node_id, else the one kept in the data directory (node-id.ts).
 */
export function openStorageBackend(config: StorageConfig): StorageBackend {
  if (config.s3 === null) return new LocalStorage(config.parquetRoot, config.nodeId);
  return new S3Storage(config.s3, config.cacheDir, config.nodeId ?? localNodeIdSync(config.parquetRoot));
}

/** Where query threads read files: the local store's root, or the object store's cache. */
export function readableRootOf(config: StorageConfig): string {
  return config.s3 === null ? config.parquetRoot : config.cacheDir;
}
