// Limits of the PostgreSQL / TimescaleDB driver, with what each costs and why it is where it is.

/** How long a connection attempt (TCP and login) may take: a dead host fails a test or a run in this time, not the OS's minutes. */
export const PG_CONNECT_TIMEOUT_MS = 10_000;

/** One read query may run this long: a chunk is at most chunkRowsMax rows of one partition, so minutes mean a missing index on a huge table. */
export const PG_STATEMENT_TIMEOUT_MS = 300_000;

/** Tag, field and time columns a job may name: each is one SELECT expression; more is a mistake, not a table. */
export const PG_JOB_COLUMNS_MAX = 1_000;

/** Partitions or hypertable chunks whose bounds steer the reads; past this the table is read as a whole (still correct, only one sort per chunk over more rows). */
export const PG_PARTITIONS_MAX = 10_000;
