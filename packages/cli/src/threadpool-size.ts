import { availableParallelism } from 'node:os';

/**
 * Every DuckDB call of @duckdb/node-api runs on libuv's thread pool, shared with file I/O and
 * crypto; its default of 4 threads lets one long query hold up the writers' flushes and other
 * queries (measured: a `SELECT 1` waited 1.5 s behind another query with a pool of 1, 22 ms with
 * 4). The pool is sized once, before its first use, so this module is the CLI's first import.
 */
const THREADPOOL_SIZE_MIN = 16;
process.env.UV_THREADPOOL_SIZE ??= String(Math.max(THREADPOOL_SIZE_MIN, availableParallelism() * 4));
