/**
 * `arc compact` asks the server for its jobs this often while it waits for them. A request
 * costs the server a map read (no disk), so twice a second is cheap and the progress bar moves
 * without visible lag; jobs themselves take seconds to minutes.
 */
export const COMPACT_POLL_INTERVAL_MS = 500;

/**
 * One HTTP request of `arc compact` fails after this long. Every endpoint it calls answers from
 * memory or one SQLite read (candidates list files from the catalog), so 30 s only ever means a
 * server that is stuck or unreachable.
 */
export const COMPACT_REQUEST_TIMEOUT_MS = 30_000;

/**
 * Polls `arc compact` waits for the outcome of a job that left the queue but is not in the
 * history yet (the server records it as the job ends): 20 polls are 10 s, far longer than one
 * SQLite write; past that the job is reported as of unknown outcome (exit code 1).
 */
export const COMPACT_OUTCOME_POLLS_MAX = 20;

/**
 * `arc health` gives up on a server that has not answered after this long. /health and /ready
 * answer from memory; a container health check (Dockerfile: --timeout=5s) kills the probe itself
 * at 5 s, so this stays below it to report "unreachable" rather than be killed silently.
 */
export const HEALTH_REQUEST_TIMEOUT_MS = 4_000;

/**
 * `arc retention` reads the progress of a run this often while the run's request is open (a
 * map read on the server); runs take seconds to hours.
 */
export const RETENTION_POLL_INTERVAL_MS = 500;

/**
 * One request of `arc retention` other than a run fails after this long: each answers from one
 * SQLite read or write. A run (execute) has no limit: it answers when it ended.
 */
export const RETENTION_REQUEST_TIMEOUT_MS = 30_000;

/**
 * Windows one request of `arc cq execute` asks for: the server runs them one after another
 * (tens of milliseconds to seconds each), so 50 keep the progress line moving; a range of
 * 10,000 windows is 200 requests. An execute request waits for its answer without a time limit
 * (ApiClient.requestUntilAnswered): 50 windows of a month each can take longer than the five
 * minutes fetch waits for an answer's head.
 */
export const CQ_WINDOWS_PER_REQUEST = 50;
/**
 * How long `arc cq` waits for the answer to a definition request (list, show, create, delete,
 * executions): create parses the query with DuckDB, well under a second; a minute is a server
 * that is stuck, not busy.
 */
export const CQ_REQUEST_TIMEOUT_MS = 60_000;

/** Between two reads of `arc delete`'s progress on a terminal (GET /api/v1/delete/running), and its time limit each. */
export const DELETE_PROGRESS_INTERVAL_MS = 1000;
/** How often `arc import` redraws its progress line on a terminal. */
export const IMPORT_PROGRESS_INTERVAL_MS = 250;

/**
 * `arc import influx|postgres` reads its run's execution this often (one SQLite read on the
 * server). The server updates an execution once per chunk written (thousands of rows, a fraction
 * of a second to seconds), so a second keeps the bar moving without asking for the same numbers.
 */
export const IMPORT_JOB_POLL_INTERVAL_MS = 1000;
/**
 * One request of `arc import influx|postgres` fails after this long. The slowest is the source
 * test, which connects to the other system (the server bounds its own connect time); the others
 * are one SQLite read or write.
 */
export const IMPORT_JOB_REQUEST_TIMEOUT_MS = 60_000;
/**
 * Executions read to find the one the command follows when a newer one (a scheduled run) started
 * after it ended: schedules run at most once a minute, so 20 cover far more than one poll's gap.
 */
export const IMPORT_JOB_EXECUTIONS_SEARCHED = 20;
