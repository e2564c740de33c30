import { ArcError, ErrorKind } from '@arc/errors';
import pg from 'pg';
import type { ClientConfig } from 'pg';
import type { TableColumns } from './postgres-columns.js';
import { quoteIdent, tableColumnsOf, timeUnitsSql, timeUsableSql } from './postgres-columns.js';
import { PostgresErrorCode } from './postgres-error-codes.js';
import { partitionEndsOf } from './postgres-partitions.js';
import type { ReaderPlan } from './postgres-reader.js';
import { afterUnitsOfCursor, boundText, ceilDiv, PostgresReader } from './postgres-reader.js';
import type { PostgresSettings } from './postgres-settings.js';
import { checkPostgresJobSource, checkPostgresSettings, clientConfigOf, postgresJobSourceOf, postgresSettingsOf, SESSION_SETTINGS } from './postgres-settings.js';
import type { ConnectionTestResult, ReadOptions, SourceConnection, SourceDriver, SourceReader } from './source.js';

/**
 * The PostgreSQL / TimescaleDB driver: a connection is one server database reached with the `pg`
 * client; a job reads one table (a plain table, a partitioned table, a hypertable, a view) in time
 * order, chunk by chunk (postgres-reader.ts). Mapping rules: docs/import-postgres.md.
 */

/** The step of a connection that failed, from the error the client raised. */
type FailedStep = 'connect' | 'authenticate' | 'database';

/** SQLSTATEs of a refused login (28P01 wrong password, 28000 no such role or no pg_hba entry) and of a missing database. */
function failedStepOf(error: unknown): FailedStep {
  const code = (error as { code?: unknown }).code;
  if (code === '28P01' || code === '28000') return 'authenticate';
  if (code === '3D000') return 'database';
  // The client refuses before asking when the server wants a password and none was given.
  if (error instanceof Error && /\bSASL\b|password/i.test(error.message)) return 'authenticate';
  return 'connect';
}

function stepMessage(step: FailedStep, settings: PostgresSettings, error: unknown): string {
  const reason = error instanceof Error ? error.message : String(error);
  switch (step) {
    case 'connect':
      return `connect to ${settings.host}:${String(settings.port)} failed: ${reason}`;
    case 'authenticate':
      return `authenticate as '${settings.user}' failed: ${reason}`;
    case 'database':
      return `database '${settings.database}' failed: ${reason}`;
  }
}

/** One connection with an end that runs once, and a cancel of the query in progress, both reached from an abort signal. */
class Session {
  readonly client: pg.Client;
  readonly #config: ClientConfig;
  readonly #signal: AbortSignal;
  #backendPid: number | null = null;
  #ended: Promise<void> | null = null;
  readonly #onAbort = (): void => {
    void this.#cancelRunning().finally(() => this.end());
  };

  constructor(config: ClientConfig, signal: AbortSignal) {
    this.#config = config;
    this.#signal = signal;
    this.client = new pg.Client(config);
    // An error on an idle connection (the server restarted) must not crash the process; the next query fails instead.
    this.client.on('error', () => undefined);
  }

  async connect(settings: PostgresSettings): Promise<void> {
    this.#signal.throwIfAborted();
    this.#signal.addEventListener('abort', this.#onAbort, { once: true });
    try {
      await this.client.connect();
      const names = Object.keys(SESSION_SETTINGS);
      const settingsSql = names.map((_, index) => `set_config($${String(2 * index + 1)}, $${String(2 * index + 2)}, false)`).join(', ');
      const pid = await this.client.query<{ pid: number }>(`SELECT pg_backend_pid() AS pid, ${settingsSql}`, names.flatMap((name) => [name, SESSION_SETTINGS[name]]));
      this.#backendPid = pid.rows[0]?.pid ?? null;
    } catch (error) {
      await this.end();
      this.#signal.throwIfAborted();
      throw new ArcError(ErrorKind.unavailable, PostgresErrorCode.sourceFailed, stepMessage(failedStepOf(error), settings, error), { step: failedStepOf(error) });
    }
  }

  end(): Promise<void> {
    this.#ended ??= (async () => {
      this.#signal.removeEventListener('abort', this.#onAbort);
      await this.client.end().catch(() => undefined);
    })();
    return this.#ended;
  }

  /**
   * Closing the socket alone leaves a long sort running on the server until it next writes; a
   * cancel request over a second connection stops it now. Best effort: the connection ends anyway.
   */
  async #cancelRunning(): Promise<void> {
    if (this.#backendPid === null || this.#ended !== null) return;
    const canceller = new pg.Client(this.#config);
    canceller.on('error', () => undefined);
    try {
      await canceller.connect();
      await canceller.query('SELECT pg_cancel_backend($1)', [this.#backendPid]);
    } catch {
      // The session is ended right after; a failed cancel only lets the server finish the query alone.
    } finally {
      await canceller.end().catch(() => undefined);
    }
  }
}

async function testConnection(connection: SourceConnection, signal: AbortSignal): Promise<ConnectionTestResult> {
  const settings = postgresSettingsOf(connection.settings);
  const session = new Session(clientConfigOf(settings, connection.secret), signal);
  try {
    await session.connect(settings);
  } catch (error) {
    if (!(error instanceof ArcError)) throw error;
    return { ok: false, version: null, detail: error.message };
  }
  try {
    const answer = await session.client.query<{ version: string; timescaledb: string | null }>(
      "SELECT version() AS version, (SELECT extversion FROM pg_extension WHERE extname = 'timescaledb') AS timescaledb",
    );
    const row = answer.rows[0];
    const server = /^PostgreSQL [^ ,]+/.exec(row?.version ?? '')?.[0] ?? row?.version ?? null;
    const version = row?.timescaledb === null || row?.timescaledb === undefined ? server : `${server ?? 'PostgreSQL'}, TimescaleDB ${row.timescaledb}`;
    return { ok: true, version, detail: `connected to ${settings.host}:${String(settings.port)}, authenticated as '${settings.user}', database '${settings.database}' answered` };
  } catch (error) {
    signal.throwIfAborted();
    return { ok: false, version: null, detail: `database '${settings.database}' failed: ${(error as Error).message}` };
  } finally {
    await session.end();
  }
}

interface TimeSpan {
  readonly minUnits: bigint | null;
  readonly maxUnits: bigint | null;
}

/** The oldest and newest time in the read's range (one query; only the bounds the range leaves open are used). */
async function timeSpanOf(client: pg.Client, columns: TableColumns, startUnits: bigint | null, endUnits: bigint | null): Promise<TimeSpan> {
  const time = quoteIdent(columns.time.name);
  const conditions = [timeUsableSql(columns.time)];
  const values: string[] = [];
  if (startUnits !== null) conditions.push(`${time} >= $${String(values.push(boundText(columns, startUnits)))}::${columns.time.boundType}`);
  if (endUnits !== null) conditions.push(`${time} < $${String(values.push(boundText(columns, endUnits)))}::${columns.time.boundType}`);
  const answer = await client.query<{ min: string | null; max: string | null }>(
    `SELECT ${timeUnitsSql(columns.time, `min(${time})`)} AS min, ${timeUnitsSql(columns.time, `max(${time})`)} AS max
       FROM ${quoteIdent(columns.schema)}.${quoteIdent(columns.table)} WHERE ${conditions.join(' AND ')}`,
    values,
  );
  const row = answer.rows[0];
  return { minUnits: row?.min == null ? null : BigInt(row.min), maxUnits: row?.max == null ? null : BigInt(row.max) };
}

async function planOf(client: pg.Client, source: Readonly<Record<string, unknown>>, cursor: string | null, options: ReadOptions): Promise<ReaderPlan> {
  const job = postgresJobSourceOf(source);
  const columns = await tableColumnsOf(client, job);
  const unitNs = columns.time.unitNs;
  // Time t (in units) is in [startNs, endNs) exactly when t >= ceil(startNs / unit) and t < ceil(endNs / unit).
  const startUnits = options.startNs === null ? null : ceilDiv(options.startNs, unitNs);
  const givenEndUnits = options.endNs === null ? null : ceilDiv(options.endNs, unitNs);
  const span = await timeSpanOf(client, columns, startUnits, givenEndUnits);
  const afterUnits = cursor !== null ? afterUnitsOfCursor(cursor) : startUnits === null ? null : startUnits - 1n;
  // An open end is the newest row when the run opens: rows written during the run wait for the next one.
  const endUnits = givenEndUnits ?? (span.maxUnits === null ? null : span.maxUnits + 1n);
  const base = { columns, measurement: job.measurement, partitionEnds: await partitionEndsOf(client, columns) };
  if (endUnits === null || span.minUnits === null) {
    // Nothing in the range: a reader whose cursor is already at its end.
    const end = endUnits ?? 0n;
    return { ...base, afterUnits: end - 1n, endUnits: end, progressFromUnits: end - 1n };
  }
  return { ...base, afterUnits, endUnits, progressFromUnits: startUnits ?? span.minUnits };
}

async function openReader(connection: SourceConnection, source: Readonly<Record<string, unknown>>, cursor: string | null, options: ReadOptions): Promise<SourceReader> {
  const settings = postgresSettingsOf(connection.settings);
  const session = new Session(clientConfigOf(settings, connection.secret), options.signal);
  await session.connect(settings);
  try {
    const plan = await planOf(session.client, source, cursor, options);
    return new PostgresReader(session.client, plan, options, () => session.end());
  } catch (error) {
    await session.end();
    options.signal.throwIfAborted();
    if (error instanceof ArcError) throw error;
    throw new ArcError(ErrorKind.unavailable, PostgresErrorCode.sourceFailed, `opening the job's table: ${(error as Error).message}`);
  }
}

export const postgresDriver: SourceDriver = {
  type: 'postgres',
  checkSettings: checkPostgresSettings,
  checkJobSource: checkPostgresJobSource,
  test: testConnection,
  open: openReader,
};
