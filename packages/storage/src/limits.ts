/**
 * Keys per listing page: an object store answers at most 1,000 per request; local listings use
 * the same so both backends page alike. A page's objects are held in memory (~100 bytes each).
 */
export const LIST_PAGE_KEYS_MAX = 1000;

/**
 * Longest stretch of a local directory walk between two turns of the event loop: a listing runs
 * on the main thread beside the requests, which wait at most this long (readdir of an hour
 * directory takes ~0.04 ms, so a slice reads a few hundred).
 */
export const WALK_SLICE_MS = 10;

/**
 * Attempts of one object-store request before it fails with ARC_OBJECT_STORE_UNAVAILABLE: delays
 * of 100 ms, 400 ms, 1.6 s between them ride out a connection reset or a gateway restart of a
 * couple of seconds; longer outages are the caller's to wait out (writers keep their rows and
 * retry the flush; a query fails with 503).
 */
export const S3_ATTEMPTS_MAX = 4;
export const S3_RETRY_DELAY_MS_FIRST = 100;
export const S3_RETRY_DELAY_MS_MAX = 2000;
/** S3's multi-delete takes at most 1,000 keys per request. */
export const S3_DELETE_BATCH_MAX = 1000;
/**
 * Connections kept open to the object store per thread: uploads of every writer's flushes and
 * the cache's parallel downloads share them (a socket costs ~100 KB of buffers).
 */
export const S3_SOCKETS_MAX = 64;

/**
 * Downloads the file cache runs at once (all queries and merges together): enough to fill a
 * fast link with objects of a few MB (each costs a socket of S3_SOCKETS_MAX and its buffers),
 * few enough that one cold query cannot take every socket from the writers' uploads.
 */
export const CACHE_FETCHES_MAX = 8;

/**
 * How long an acquire waits for pinned files (other queries, merges) to leave room before it
 * fails with 503: a query's files are normally released within seconds; longer means the cache
 * is too small for the work running at once.
 */
export const CACHE_ROOM_WAIT_MS = 10_000;

/**
 * A cached file's mtime (its place in the LRU order after a restart) is moved to "now" on use at
 * most this often: one utimes per file per minute instead of one per file per query.
 */
export const CACHE_TOUCH_INTERVAL_MS = 60_000;

/**
 * The cache's bound when a store is opened without the config's (tools, tests): the config's
 * default, storage.cache_max_gb = 10.
 */
export const CACHE_BYTES_MAX_DEFAULT = 10_000_000_000;

/**
 * Another node's replace manifest older than this belongs to a job that died (a job writes its
 * manifest right before publishing its outputs and commits within minutes; partition leases run
 * 10 minutes by default): the listing finishes or undoes it. Until then the listing only keeps
 * its files right (committed: inputs hidden; not committed: outputs hidden).
 */
export const ORPHANED_MANIFEST_AGE_MS = 6 * 3600 * 1000;

/**
 * Distinct column lists the catalog keeps per measurement so that files of one schema share one
 * array (a schema changes rarely: a field added now and then). Past this many the kept lists
 * start over, so a schema that changes with every write cannot grow the catalog's index.
 */
export const COLUMN_LISTS_PER_MEASUREMENT_MAX = 64;

/**
 * Shapes (span, node, schema id, column list: what files share, catalog-entry.ts) the catalog
 * keeps per measurement so that entries share one. A few per node and schema in practice; past
 * this many they start over with the column lists (entries keep the shapes they hold).
 */
export const FILE_SHAPES_PER_MEASUREMENT_MAX = 4 * COLUMN_LISTS_PER_MEASUREMENT_MAX;
