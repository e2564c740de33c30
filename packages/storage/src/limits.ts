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
