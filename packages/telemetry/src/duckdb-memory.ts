/**
 * What a thread that owns a DuckDB instance runs (on a connection of its own, between its other
 * work) to publish its `duckdbMemoryBytes` gauge: the bytes DuckDB's buffer manager holds, all tags
 * together. A catalog read with no I/O; cheap enough every few seconds.
 */
export const DUCKDB_MEMORY_SQL = 'SELECT coalesce(sum(memory_usage_bytes), 0)::DOUBLE FROM duckdb_memory()';

/**
 * How often a DuckDB thread reads its memory: the freshness of arc_duckdb_memory_bytes. The read
 * is a query on the thread's own instance, so not every second.
 */
export const DUCKDB_MEMORY_SAMPLE_MS = 5000;
