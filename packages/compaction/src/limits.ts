import assert from 'node:assert/strict';

/**
 * Limits of compaction. Each says what it costs; relations between them are asserted at load
 * time below.
 */

/**
 * Input files of one merge job. DuckDB opens every input's footer before the first row (memory
 * and one open file each), so a partition with more files is merged in batches by the caller.
 * 100,000 is far above any batch the planner makes; the bound exists because the merge's write
 * order packs the input's index above MERGE_FILE_ROW_BITS (merge-sql.ts), which must stay below
 * 2^63.
 */
export const MERGE_INPUT_FILES_MAX = 100_000;

/**
 * Bits of a row's position inside its input file in the merge's write order (input index << bits
 * | row position). 2^40 rows (1.1 trillion) is beyond any Parquet file Arc writes by six orders of
 * magnitude; a job meeting a larger file fails instead of ordering wrongly.
 */
export const MERGE_FILE_ROW_BITS = 40;

/** DuckDB threads of the merge worker's instance (compaction.threads). */
export const MERGE_THREADS_MAX = 256;

/**
 * Most bytes the merge worker's DuckDB may spill to its temp directory while a sort or a
 * deduplication is larger than its memory limit. Set explicitly for the reason the writer's
 * encoder does (packages/writer/src/limits.ts, ENCODER_TEMP_DIRECTORY_SIZE_MAX): DuckDB's default
 * is 90% of the disk's free space measured at the first spill and then kept. A cap, not a
 * reservation; the disk's free space is the real bound.
 */
export const MERGE_TEMP_DIRECTORY_SIZE_MAX = '1TiB';

/**
 * How long the merge worker waits before it asks DuckDB for work again when DuckDB's own threads
 * hold every remaining task of a statement. Bounds how late the worker notices the end of a
 * statement (1 ms against merges of seconds); a wake-up per millisecond costs nothing measurable.
 */
export const MERGE_TASK_POLL_MS = 1;

assert.ok(Math.log2(MERGE_INPUT_FILES_MAX) + MERGE_FILE_ROW_BITS < 63, 'the write order fits a BIGINT');
