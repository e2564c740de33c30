/**
 * Keys per listing page: an object store answers at most 1,000 per request; local listings use
 * the same so both backends page alike. A page's objects are held in memory (~100 bytes each).
 */
export const LIST_PAGE_KEYS_MAX = 1000;

/**
 * stat() calls a local listing keeps in flight: enough to hide each call's latency on a loaded
 * disk, few enough not to flood libuv's thread pool (4 threads by default) ahead of other I/O.
 */
export const LIST_STAT_CONCURRENCY = 16;
