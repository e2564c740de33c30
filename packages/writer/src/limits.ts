import assert from 'node:assert/strict';

/**
 * Limits of the Parquet encoder. Each says what it costs; relations between them are asserted at
 * load time below.
 */

/**
 * Rows per DuckDB data chunk appended to the flush table. DuckDB's vectors hold exactly
 * `duckdb_vector_size()` = 2048 rows (STANDARD_VECTOR_SIZE), so a chunk cannot be larger; a
 * smaller chunk only adds native calls per row. The encoder asserts this equals the library's
 * vector size when it starts.
 */
export const ENCODER_CHUNK_ROWS = 2048;

/**
 * Bytes of one DuckDB `duckdb_string_t` in a VARCHAR vector: a uint32 length, then either the
 * string itself (up to 12 bytes, inlined) or a 4-byte prefix and a pointer into the vector's
 * string heap. Format constants of DuckDB, not tunables.
 */
export const DUCKDB_STRING_T_BYTES = 16;
export const DUCKDB_STRING_INLINE_BYTES_MAX = 12;

/**
 * Memory of one encoder's DuckDB instance when the caller names none. A flush holds its rows
 * twice (the batches and the DuckDB table) plus COPY's row-group buffers; 1 GiB holds a flush of
 * ~5M rows x 20 columns before DuckDB spills the table to `tempDirectory`. Each writer thread
 * owns one instance, so this is multiplied by the writer count.
 */
export const ENCODER_MEMORY_LIMIT_DEFAULT = '1GB';

/**
 * Most bytes one encoder's DuckDB may spill to its temp directory (`<data_dir>/tmp/writer-<n>`)
 * while a flush is larger than its memory limit. Set explicitly because DuckDB's default is 90%
 * of the disk's free space measured at the first spill and kept for the instance's life: a first
 * spill on a full disk froze it at ~100 KiB and no flush of that writer succeeded again. A cap,
 * not a reservation: nothing is allocated up front, and spill files go when the flush ends. It is
 * far above the spill of a flush of any practical size (a writer holds at most
 * writer.buffer_max_mb / writer.threads of rows), so the disk's free space is the real bound,
 * and running into it is an ENOSPC that clears when space is freed (storage-full.ts), unlike a
 * limit computed once.
 */
export const ENCODER_TEMP_DIRECTORY_SIZE_MAX = '1TiB';

/**
 * zstd level for `COMPRESSION zstd`. Compaction is to write zstd level 3, the usual
 * speed/size balance (level 1 is ~10% larger, level 9 ~3x slower for a few % smaller).
 */
export const ZSTD_COMPRESSION_LEVEL = 3;

/** DuckDB threads per encoder. One core per encoder is the normal setting; more helps COPY only. */
export const ENCODER_THREADS_MAX = 256;

/**
 * The table function through which a flush's COPY reads its batches (registered on the encoder's
 * own connection; nothing else runs SQL there). One encoder runs one flush at a time.
 */
export const ENCODER_SCAN_FUNCTION_NAME = 'arc_flush_scan';
/**
 * The scan's extra column numbering rows in append order when a flush must be sorted (the
 * tie-breaker of equal times); `_` is appended while a column of the flush has the name.
 */
export const ENCODER_SCAN_SEQUENCE_COLUMN = 'arc_flush_seq';

/**
 * A utf8 column whose distinct values across a flush number at most this goes to DuckDB as an
 * ENUM: 1 or 2 bytes per value instead of a 16-byte string_t, and COPY writes the ENUM's
 * dictionary as is instead of hashing every string (docs/decisions.md, "Dictionary-encoded tags
 * as ENUM"). 65,535 keeps every code in a uint16 (DuckDB stores up to 255 members as uint8, up to
 * 65,535 as uint16). What it costs: building the type (~1 us per member: CREATE TYPE, the table
 * and the chunk's logical type) and, in the file, the whole member list in the dictionary page of
 * every row group, whether the row group uses a member or not.
 */
export const ENCODER_ENUM_MEMBERS_MAX = 65_535;

/**
 * Bytes of all members of one ENUM. Every row group's dictionary page holds the whole member list,
 * and interning copies each new value once, so a column of few but long values (log lines) must
 * not become an ENUM: beyond this it goes the VARCHAR path. 1 MiB is DuckDB's own default
 * `STRING_DICTIONARY_PAGE_SIZE_LIMIT`, past which its VARCHAR writer drops the dictionary too.
 */
export const ENCODER_ENUM_UNION_BYTES_MAX = 1024 * 1024;

/** DuckDB's ENUM physical type is uint8 up to this many members, uint16 beyond (format constant). */
export const DUCKDB_ENUM_UINT8_MEMBERS_MAX = 255;

/**
 * An ENUM must be used by this many rows per member of the flush, else the column goes the
 * VARCHAR path: the per-member cost (type build, dictionary page per row group) has to be paid
 * back by the per-row saving (~0.1-0.2 us per value).
 */
export const ENCODER_ENUM_ROWS_PER_MEMBER_MIN = 16;

assert.ok(ENCODER_CHUNK_ROWS % 64 === 0, 'chunk rows must be a multiple of 64 (validity words)');
assert.ok(DUCKDB_STRING_INLINE_BYTES_MAX + 4 === DUCKDB_STRING_T_BYTES, 'string_t layout');
assert.ok(ENCODER_ENUM_MEMBERS_MAX <= 65_535, 'ENUM codes fit the uint16 row codes of plain batches');
assert.ok(ENCODER_ENUM_MEMBERS_MAX > DUCKDB_ENUM_UINT8_MEMBERS_MAX, 'ENUM codes are 1 or 2 bytes');
assert.ok(ENCODER_ENUM_ROWS_PER_MEMBER_MIN >= 1, 'ENUM rows per member positive');
assert.ok(ZSTD_COMPRESSION_LEVEL >= 1, 'zstd level range');
assert.ok(ZSTD_COMPRESSION_LEVEL <= 22, 'zstd level range');

/**
 * A writer tells the main thread about new files and new buffered schemas (the query cache and
 * catalog follow them) in one message per this many milliseconds, or per this many events,
 * whichever comes first. One message per measurement made a request of 3,000 new measurements
 * 6,000 messages on the acceptor thread (issue 11). The wait delays only what an age-based flush
 * makes visible to queries (an explicit flush answers after its events); the count bounds how long
 * the main thread spends on one message (well under a millisecond per 1,000 events).
 */
export const MEASUREMENT_EVENTS_WAIT_MS = 10;
export const MEASUREMENT_EVENTS_PER_MESSAGE_MAX = 1000;
assert.ok(MEASUREMENT_EVENTS_WAIT_MS > 0, 'events wait positive');
assert.ok(MEASUREMENT_EVENTS_PER_MESSAGE_MAX >= 1, 'events per message positive');

/**
 * Databases the measurement census (measurement-census.ts) tells apart: its table has twice as
 * many slots (open addressing, at most half full), 12 bytes each, so 16,384 databases cost 384 KiB
 * of shared memory. A database beyond it cannot get new measurements (400), which the query side's
 * own bound of 10,000 databases (query limits.ts) makes moot.
 */
export const CENSUS_DATABASES_MAX = 16_384;
/**
 * A writer waiting for the census lock sleeps this long between tries. The lock is held for a few
 * map operations, or once per database and process for one directory listing.
 */
export const CENSUS_LOCK_WAIT_MS = 1;

/**
 * How long flushAll waits for prepared transactions to be committed or aborted. Decoders send the
 * decision as soon as every writer answered, so it is normally there within a millisecond; the
 * bound keeps a flush from hanging on a decoder that died between prepare and commit. What it
 * costs: an explicit flush (POST /write/flush, shutdown) can take this much longer when it does.
 */
export const PREPARED_SETTLE_WAIT_MS_MAX = 1000;

/**
 * Committed flushes of one writer whose files may be publishing at once while the next flush is
 * encoded. On an object store a publish is an upload (tens of ms per file, measured 35-50 ms for
 * 340 KB on the test RGW), which would otherwise stall the writer's encoding; their rows stay
 * counted in the write buffers until published, so memory stays bounded by writer.buffer_max_mb.
 */
export const PUBLISHES_IN_FLIGHT_MAX = 4;

/**
 * Files of one flush (one per hour it spans) published at once. Each upload reads its file into
 * memory up to the part size, and a backfill's flush can span hundreds of hours: a handful at a
 * time keeps that bounded while still overlapping the round trips.
 */
export const PUBLISH_CONCURRENCY_MAX = 4;

/**
 * Staged files of one flush made durable (fsync) at once. One after another each fsync waits for
 * its own ext4 journal commit (1.5-5 ms for a 300 KB file on this disk); several at once share
 * commits (0.2-0.3 ms each, 8 at once), and a flush that spans many hours has one file per hour.
 * Each takes a libuv pool thread for its wait, and the pool also runs every DuckDB call, so a few.
 */
export const SEAL_CONCURRENCY_MAX = 4;
