// Limits of compaction, with what each costs and why it is where it is.

/**
 * Files one job merges at most: DuckDB opens them all in one scan (a file handle and a footer
 * each, ~100 KB of memory apiece); a partition with more is merged in several jobs, newest first.
 */
export const JOB_INPUT_FILES_MAX = 1000;

/**
 * The live tier's run grows backwards from the newest file while the next older file is at most
 * this many times the run so far: 1 merges like a binary counter (each row rewritten about
 * log2(flushes per hour) times), larger factors rewrite big files more often for fewer files.
 */
export const LIVE_RUN_GROWTH_FACTOR = 1;

/** Jobs waiting to run at most; a scheduled pass adds none beyond it (the next pass finds them again). */
export const JOB_QUEUE_MAX = 10_000;

/** Ended jobs kept in the history (the oldest go beyond it, checked after each job). */
export const HISTORY_JOBS_MAX = 100_000;

/** A lease is renewed this often while its job runs: a third of its length leaves two renewals of slack. */
export const LEASE_RENEWALS_PER_LEASE = 3;
