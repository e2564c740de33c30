export { LocalStorage, fsyncDirectory } from './local-storage.js';
export { STAGING_SUFFIX } from './storage-backend.js';
export type { StorageBackend } from './storage-backend.js';
export { LocalTreeDeleter } from './delete-tree.js';
export type { DataDeleter } from './delete-tree.js';
