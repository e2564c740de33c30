export { LocalStorage, fsyncDirectory } from './local-storage.js';
export { STAGING_SUFFIX } from './storage-backend.js';
export type { StorageBackend } from './storage-backend.js';
