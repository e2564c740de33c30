/**
 * The contract between the import jobs (job-runner.ts) and the systems they read from (one driver
 * per connection type: InfluxDB 1.x, InfluxDB 2.x, PostgreSQL / TimescaleDB, HTTP JSON APIs).
 *
 * A driver turns its source's rows into line protocol chunks in time order; the runner hands each
 * chunk to the ingest pipeline as one write (same decoders, validation, WAL and per-request
 * atomicity as any write) and stores the chunk's `cursor` as the job's checkpoint once the write is
 * acknowledged. So a driver's one promise is: opened again at a chunk's cursor, it yields exactly the
 * rows after that chunk, never one of the chunk's own rows again and never skipping one.
 */

export const SourceType = {
  influx1: 'influx1',
  influx2: 'influx2',
  postgres: 'postgres',
  httpJson: 'http-json',
} as const;
export type SourceType = (typeof SourceType)[keyof typeof SourceType];

export const SOURCE_TYPES: readonly SourceType[] = Object.values(SourceType);

export function isSourceType(value: unknown): value is SourceType {
  return typeof value === 'string' && (SOURCE_TYPES as readonly string[]).includes(value);
}

/** A stored connection as a driver sees it: settings as the driver checked them, and the secret decrypted. */
export interface SourceConnection {
  readonly type: SourceType;
  readonly settings: Readonly<Record<string, unknown>>;
  /** The password or token (stored encrypted at rest, never returned by the API); null when the connection has none. */
  readonly secret: string | null;
}

/** What `POST /connections/{type}/test` answers. */
export interface ConnectionTestResult {
  readonly ok: boolean;
  /** The server's version or kind when it says (e.g. "InfluxDB 1.6.7", "PostgreSQL 15.18"). */
  readonly version: string | null;
  /** What was checked, or why it failed (the failing step named: connect, authenticate, database). */
  readonly detail: string;
}

/** The slice of the source one run reads: job range and checkpoint resolved by the runner. */
export interface ReadRange {
  /** Inclusive start, ns since the epoch; null = from the oldest row. */
  readonly startNs: bigint | null;
  /** Exclusive end, ns since the epoch; null = up to the newest row when the run starts. */
  readonly endNs: bigint | null;
}

export interface ReadOptions extends ReadRange {
  /** A chunk's body stays under this (one ingest request; the server's body limit less headroom). */
  readonly chunkBytesMax: number;
  /** A chunk holds at most this many rows. */
  readonly chunkRowsMax: number;
  /** Aborted when the job is cancelled or the server stops: a read in progress ends at once. */
  readonly signal: AbortSignal;
}

export interface SourceChunk {
  /** Line protocol, one line per row, each ending in '\n'; measurement names are the destination's. */
  readonly body: Uint8Array;
  readonly rowCount: number;
  /** The chunk's rows' time bounds, ns since the epoch, inclusive. */
  readonly minTimeNs: bigint;
  readonly maxTimeNs: bigint;
  /** The destination measurements the chunk's rows go to. */
  readonly measurements: readonly string[];
  /** Where reading resumes after this chunk: opaque to the runner, stored as the checkpoint (JSON text). */
  readonly cursor: string;
  /** Bytes read from the source for this chunk (the source's answer bytes), for progress. */
  readonly sourceBytes: number;
  /** The fraction of the run's range done after this chunk (0..1), or null when the source cannot tell. */
  readonly progress: number | null;
}

export interface SourceReader {
  /** The next chunk in time order, or null at the end of the range. */
  next(): Promise<SourceChunk | null>;
  close(): Promise<void>;
}

/** One connection type. Drivers run in the import thread (never the acceptor's): they parse answers and build lines. */
export interface SourceDriver {
  readonly type: SourceType;
  /**
   * Validates a connection's settings (everything but the secret) and returns them normalised;
   * throws a 400 ArcError naming the field and what was wrong.
   */
  checkSettings(settings: unknown): Record<string, unknown>;
  /** Validates what a job of this type reads (measurements, a table, an endpoint, a mapping); 400 naming the field. */
  checkJobSource(source: unknown): Record<string, unknown>;
  /** Connects, authenticates and checks the settings' database/bucket/table exists. */
  test(connection: SourceConnection, signal: AbortSignal): Promise<ConnectionTestResult>;
  /** Opens a reader at `cursor` (a chunk's cursor from an earlier run, or null to start at the range's start). */
  open(connection: SourceConnection, source: Readonly<Record<string, unknown>>, cursor: string | null, options: ReadOptions): Promise<SourceReader>;
}
