/**
 * Keys per listing page: an object store answers at most 1,000 per request; local listings use
 * the same so both backends page alike. A page's objects are held in memory (~100 bytes each).
 */
export const LIST_PAGE_KEYS_MAX = 1000;
