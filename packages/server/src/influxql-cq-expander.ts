import { continuousQueryFieldsOf, type ContinuousQueries } from '@arc/compaction';
import { continuousQuerySourceReader, reexpandTemplate, templateSourceDatabases, type ContinuousQueryDefinition, type ContinuousQueryTemplate, type SqlRunner } from '@arc/influxql';
import type { TokenInfo } from '@arc/auth';
import type { CatalogEvent, Storage } from '@arc/storage';
import { continuousQueryPort, fieldsOfDefinition } from './cq-influxql-port.js';
import { influxSqlRunner } from './influx-query-routes.js';
import { INFLUXQL_CQ_EXPAND_EVERY_MS } from './limits.js';
import type { ServerContext } from './server-context.js';

/** Whom the re-expansion reads as: every database (CREATE checked the caller could touch the statement's). */
const EXPANDER_IDENTITY: TokenInfo = { id: 0, name: 'influxql-cq-expander', permissions: ['admin'], databases: null, expiresAt: null };

const NANOS_PER_MS = 1_000_000n;

export interface InfluxqlCqExpanderOptions {
  readonly continuousQueries: ContinuousQueries;
  /** SQL on the query pool, reading every database (the kept statements were checked when made). */
  readonly run: SqlRunner;
  readonly storage: Storage;
  readonly log: (level: 'debug' | 'info' | 'warn', message: string) => void;
  readonly nowMs?: () => number;
  /** Aborted at close(): a schema read in flight ends. */
  readonly abort?: AbortController;
}

/**
 * Follows the data for InfluxQL continuous queries Arc expands (fn(*), GROUP BY *, FROM /re/ or
 * several measurements; packages/influxql continuous-query-templates.ts): every
 * INFLUXQL_CQ_EXPAND_EVERY_MS, and when a measurement first has a file in a database a kept
 * statement reads, each kept statement is expanded over the schema as it is now. A measurement
 * newly matching gets its Arc query, whose first window holds its first row or the statement's
 * creation, whichever is later (InfluxDB would have run the windows since); one whose fields or
 * tags changed gets its SQL replaced (its catch-up point stays). Changes are logged at info.
 */
export class InfluxqlCqExpander {
  private readonly options: InfluxqlCqExpanderOptions;
  private readonly nowMs: () => number;
  private timer: NodeJS.Timeout | null = null;
  private passing: Promise<void> | null = null;
  /** A pass was asked for while one ran: it runs once more after (what it read may predate the ask). */
  private again = false;
  private closed = false;
  /** `database/measurement` of every measurement seen in the catalog: a file of another is a new measurement's first. */
  private readonly known = new Set<string>();
  /** Refusals and failures already logged (`name/measurement/why`): a pass repeats them every interval. */
  private readonly logged = new Set<string>();

  constructor(options: InfluxqlCqExpanderOptions) {
    this.options = options;
    this.nowMs = options.nowMs ?? Date.now;
  }

  /** The server's: reading on its query pool, logging to its log. */
  static forServer(context: Pick<ServerContext, 'continuousQueries' | 'queryPool' | 'storage' | 'log'>): InfluxqlCqExpander {
    const abort = new AbortController();
    return new InfluxqlCqExpander({
      continuousQueries: context.continuousQueries,
      run: influxSqlRunner(context, EXPANDER_IDENTITY, abort.signal),
      storage: context.storage,
      log: (level, message) => context.log[level](message),
      abort,
    });
  }

  start(): void {
    if (this.timer !== null) return;
    this.options.storage.onChange((event) => this.noteFiles(event));
    this.timer = setInterval(() => void this.pass(), INFLUXQL_CQ_EXPAND_EVERY_MS);
    this.timer.unref();
    void this.pass();
  }

  /** One pass over every kept statement (the timer's; tests call it); passes asked for while one runs are one more. */
  async pass(): Promise<void> {
    if (this.closed) return;
    if (this.passing !== null) {
      this.again = true;
      await this.passing;
      return;
    }
    this.passing = this.runPasses().finally(() => {
      this.passing = null;
    });
    await this.passing;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.options.abort?.abort();
    await this.passing;
  }

  private async runPasses(): Promise<void> {
    do {
      try {
        await this.runPass();
      } catch (error) {
        // The query pool busy or stopping: the next pass tries again.
        if (!this.closed) this.options.log('warn', `influxql continuous queries: re-expanding failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    } while (this.takeAgain() && !this.closed);
  }

  /** Whether a pass was asked for since the last call. */
  private takeAgain(): boolean {
    const again = this.again;
    this.again = false;
    return again;
  }

  private async runPass(): Promise<void> {
    const { continuousQueries: cqs, storage } = this.options;
    const port = continuousQueryPort(cqs);
    const templates = port.templates();
    for (const database of storage.catalog.databaseNames()) for (const measurement of storage.catalog.measurementNames(database)) this.known.add(`${database}/${measurement}`);
    const readSources = continuousQuerySourceReader(this.options.run);
    for (const template of templates) {
      if (this.closed) return;
      const changes = await reexpandTemplate(template, port.list(), readSources, BigInt(this.nowMs()) * NANOS_PER_MS);
      for (const { measurement, reason } of changes.refused) this.logOnce('warn', `${template.name}/${measurement}/${reason}`, `influxql continuous query '${template.name}': not expanded over ${measurement}: ${reason}`);
      for (const definition of changes.create) await this.attempt(template, definition, () => this.create(template, definition));
      for (const definition of changes.update) await this.attempt(template, definition, () => this.update(template, definition));
    }
  }

  /** One change; a refusal (too many queries, a query DuckDB refuses) is logged once and the others go on. */
  private async attempt(template: ContinuousQueryTemplate, definition: ContinuousQueryDefinition, change: () => Promise<void>): Promise<void> {
    try {
      await change();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.logOnce('warn', `${definition.name}/${message}`, `influxql continuous query '${template.name}': ${definition.name} not made or changed: ${message}`);
    }
  }

  private async create(template: ContinuousQueryTemplate, definition: ContinuousQueryDefinition): Promise<void> {
    const { continuousQueries: cqs } = this.options;
    const firstRowMs = await this.firstRowMs(definition.database, definition.sourceMeasurement);
    const firstWindowAtMs = Math.max(firstRowMs ?? template.createdAtMs, template.createdAtMs);
    const created = await cqs.create(fieldsOfDefinition(definition), firstWindowAtMs);
    // DROP CONTINUOUS QUERY ran while the query was checked: it removed the template, this query goes too.
    if (!cqs.templates().some((kept) => kept.name === template.name)) {
      cqs.delete(created.id);
      return;
    }
    this.options.log('info', `influxql continuous query '${template.name}': added ${created.name} for ${definition.database}.${definition.sourceMeasurement}, first window from ${new Date(firstWindowAtMs).toISOString()}`);
  }

  private async update(template: ContinuousQueryTemplate, definition: ContinuousQueryDefinition): Promise<void> {
    const { continuousQueries: cqs } = this.options;
    const cq = cqs.byName(definition.name);
    if (cq === null) return; // Dropped meanwhile.
    await cqs.update(cq.id, { ...continuousQueryFieldsOf(cq), query: definition.query });
    this.options.log('info', `influxql continuous query '${template.name}': ${cq.name} follows the fields and tags of ${definition.database}.${definition.sourceMeasurement} now: ${definition.query}`);
  }

  /** The earliest row of the measurement in its files; null when it has none. */
  private async firstRowMs(database: string, measurement: string): Promise<number | null> {
    const { storage } = this.options;
    await storage.ensureLoaded(database, measurement);
    let minTimeUs: number | null = null;
    for (const file of storage.catalog.files(database, measurement)) if (minTimeUs === null || file.minTimeUs < minTimeUs) minTimeUs = file.minTimeUs;
    return minTimeUs === null ? null : Math.floor(minTimeUs / 1000);
  }

  /**
   * A measurement's first file, in a database a kept statement reads: a pass now, not at the next
   * tick. The kept statements are read only then (once per new measurement), never per flush.
   */
  private noteFiles(event: CatalogEvent): void {
    if (this.closed || event.kind !== 'delta') return;
    const databases = new Set<string>();
    for (const change of event.delta.changes) {
      if (change.kind !== 'add') continue;
      for (const file of change.files) {
        const key = `${file.database}/${file.measurement}`;
        if (this.known.has(key)) continue;
        this.known.add(key);
        databases.add(file.database);
      }
    }
    if (databases.size === 0) return;
    try {
      const read = new Set(continuousQueryPort(this.options.continuousQueries).templates().flatMap((template) => [template.database, ...templateSourceDatabases(template)]));
      if ([...databases].some((database) => read.has(database))) void this.pass();
    } catch (error) {
      // A listener's throw would end the emitting call (a writer's flush report): the next tick expands instead.
      this.options.log('warn', `influxql continuous queries: checking a new measurement failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private logOnce(level: 'info' | 'warn', key: string, message: string): void {
    if (this.logged.has(key)) return;
    this.logged.add(key);
    this.options.log(level, message);
  }
}

