import assert from 'node:assert/strict';
import { ArcError, ErrorKind } from '@arc/errors';
import type { Client } from 'pg';
import type { FieldValue } from './line-protocol.js';
import { lineOf } from './line-protocol.js';
import type { TableColumns } from './postgres-columns.js';
import { appendField, quoteIdent, selectListSql, timeUsableSql } from './postgres-columns.js';
import { PostgresErrorCode } from './postgres-error-codes.js';
import type { ReadOptions, SourceChunk, SourceReader } from './source.js';

/**
 * Reads a table in time order, chunk by chunk, with a cursor that is one time value: "every row
 * whose time is at or before T is done". A chunk therefore never splits the rows of one timestamp
 * (they have no order PostgreSQL keeps: ctid changes with updates and differs between partitions):
 *
 *   SELECT ... WHERE time > T AND time < cap ORDER BY time LIMIT n
 *
 * When the answer is full (n rows), the rows at its last timestamp may go on past the limit: they
 * are dropped and read by the next chunk, whose query starts after the timestamp before them. When
 * every one of the n rows has the same timestamp, that whole timestamp is read (`time = T`) as the
 * chunk, over the row limit (not over the byte limit: that is refused, naming the timestamp).
 * `cap` is the end of the read's range, or sooner the end of the partition holding T (see
 * postgres-partitions.ts), so each query sorts one partition's rows. Rows whose time is NULL or
 * infinite are never read (no query selects them); docs/import-postgres.md says so.
 */

export interface ReaderPlan {
  readonly columns: TableColumns;
  readonly measurement: string;
  /** Rows at or before this are done (the cursor); null = nothing read yet and no range start. */
  readonly afterUnits: bigint | null;
  /** Exclusive end of the read, in the time column's units. */
  readonly endUnits: bigint;
  /** Where progress counts from: the range's start, or the oldest row at open. */
  readonly progressFromUnits: bigint;
  /** Partition ends, ascending (may be empty). */
  readonly partitionEnds: readonly bigint[];
}

const CURSOR_VERSION = 1;

/** The checkpoint text of a cursor (JSON: the runner stores it as is). */
export function cursorText(afterUnits: bigint): string {
  return JSON.stringify({ v: CURSOR_VERSION, after: afterUnits.toString() });
}

export function afterUnitsOfCursor(cursor: string): bigint {
  let parsed: unknown;
  try {
    parsed = JSON.parse(cursor);
  } catch {
    parsed = null;
  }
  const value = parsed as { v?: unknown; after?: unknown } | null;
  if (value === null || typeof value !== 'object' || value.v !== CURSOR_VERSION || typeof value.after !== 'string' || !/^-?\d+$/.test(value.after)) {
    throw new ArcError(ErrorKind.internal, PostgresErrorCode.badCursor, `checkpoint '${cursor}' is not a PostgreSQL reader's cursor`);
  }
  return BigInt(value.after);
}

/** a / b rounded toward minus infinity (BigInt division truncates toward zero). */
export function floorDiv(a: bigint, b: bigint): bigint {
  assert.ok(b > 0n, 'divisor is positive');
  const quotient = a / b;
  return a % b !== 0n && a < 0n ? quotient - 1n : quotient;
}

/** a / b rounded toward plus infinity. */
export function ceilDiv(a: bigint, b: bigint): bigint {
  return -floorDiv(-a, b);
}

/** A bound in the time column's units as the text its SQL cast reads: the number, or RFC 3339 with microseconds. */
export function boundText(columns: TableColumns, units: bigint): string {
  if (columns.time.boundType === 'int8') return units.toString();
  const milliseconds = floorDiv(units, 1_000n);
  const micros = (units - milliseconds * 1_000n).toString().padStart(3, '0');
  const iso = new Date(Number(milliseconds)).toISOString();
  return `${iso.slice(0, -1)}${micros}Z`;
}

export class PostgresReader implements SourceReader {
  readonly #client: Client;
  readonly #plan: ReaderPlan;
  readonly #options: ReadOptions;
  readonly #end: () => Promise<void>;
  readonly #select: string;
  readonly #from: string;
  readonly #time: string;
  #afterUnits: bigint | null;

  /** `end` closes the session (once, however often it is called). */
  constructor(client: Client, plan: ReaderPlan, options: ReadOptions, end: () => Promise<void>) {
    this.#client = client;
    this.#plan = plan;
    this.#options = options;
    this.#end = end;
    this.#afterUnits = plan.afterUnits;
    this.#select = selectListSql(plan.columns);
    this.#from = `${quoteIdent(plan.columns.schema)}.${quoteIdent(plan.columns.table)}`;
    this.#time = quoteIdent(plan.columns.time.name);
  }

  async next(): Promise<SourceChunk | null> {
    for (;;) {
      this.#options.signal.throwIfAborted();
      const capUnits = this.#capUnits();
      if (capUnits === null) return null;
      const rows = await this.#rowsBefore(capUnits);
      if (rows.length === 0) {
        // The partition is done: the cursor moves to its last possible time, and the next one is read.
        if (capUnits >= this.#plan.endUnits) return null;
        this.#afterUnits = capUnits - 1n;
        continue;
      }
      const chunk = this.#chunkOf(await this.#wholeTimestamps(rows));
      if (chunk !== null) return chunk;
    }
  }

  async close(): Promise<void> {
    await this.#end();
  }

  /** The exclusive end of the next query: the read's end, or sooner the end of the partition after the cursor; null when done. */
  #capUnits(): bigint | null {
    const after = this.#afterUnits;
    if (after !== null && after + 1n >= this.#plan.endUnits) return null;
    for (const end of this.#plan.partitionEnds) {
      if ((after === null || end > after + 1n) && end < this.#plan.endUnits) return end;
    }
    return this.#plan.endUnits;
  }

  async #query(where: string, values: unknown[], limit: number | null): Promise<(string | null)[][]> {
    const conditions = [timeUsableSql(this.#plan.columns.time), where];
    const text = `SELECT ${this.#select} FROM ${this.#from} WHERE ${conditions.join(' AND ')} ORDER BY ${this.#time}${limit === null ? '' : ` LIMIT ${String(limit)}`}`;
    try {
      const result = await this.#client.query<(string | null)[]>({ text, values, rowMode: 'array' });
      return result.rows;
    } catch (error) {
      this.#options.signal.throwIfAborted();
      throw new ArcError(ErrorKind.unavailable, PostgresErrorCode.sourceFailed, `reading ${this.#from}: ${(error as Error).message}`);
    }
  }

  #bound(index: number): string {
    return `$${String(index)}::${this.#plan.columns.time.boundType}`;
  }

  async #rowsBefore(capUnits: bigint): Promise<(string | null)[][]> {
    const after = this.#afterUnits;
    const columns = this.#plan.columns;
    if (after === null) return this.#query(`${this.#time} < ${this.#bound(1)}`, [boundText(columns, capUnits)], this.#options.chunkRowsMax);
    return this.#query(`${this.#time} > ${this.#bound(1)} AND ${this.#time} < ${this.#bound(2)}`, [boundText(columns, after), boundText(columns, capUnits)], this.#options.chunkRowsMax);
  }

  /** Rows ending at a whole timestamp: a full answer loses its last timestamp's rows, or is all one timestamp and is read whole. */
  async #wholeTimestamps(rows: (string | null)[][]): Promise<(string | null)[][]> {
    if (rows.length < this.#options.chunkRowsMax) return rows;
    const lastUnits = rows[rows.length - 1]?.[0];
    assert.ok(typeof lastUnits === 'string', 'a read row has its time');
    let keep = rows.length;
    while (keep > 0 && rows[keep - 1]?.[0] === lastUnits) keep -= 1;
    if (keep > 0) return rows.slice(0, keep);
    return this.#query(`${this.#time} = ${this.#bound(1)}`, [boundText(this.#plan.columns, BigInt(lastUnits))], null);
  }

  /**
   * Lines of `rows` (time order) up to the byte limit, cut between timestamps; the cursor moves past
   * the rows taken. Null when none of them has a field (nothing to store): the caller reads on.
   */
  #chunkOf(rows: (string | null)[][]): SourceChunk | null {
    const { columns, measurement } = this.#plan;
    const unitNs = columns.time.unitNs;
    const lines: string[] = [];
    let bytes = 0;
    let sourceBytes = 0;
    let minTimeNs: bigint | null = null;
    let maxTimeNs: bigint | null = null;
    // Where the current timestamp's rows began, to drop them whole when the byte limit falls among them.
    let group = { units: '', lines: 0, sourceBytes: 0, maxTimeNs: null as bigint | null };
    let doneUnits: string | null = null;
    for (const row of rows) {
      const units = row[0];
      assert.ok(typeof units === 'string', 'a read row has its time');
      if (units !== group.units) {
        if (group.units !== '') doneUnits = group.units;
        group = { units, lines: lines.length, sourceBytes, maxTimeNs };
      }
      const timeNs = BigInt(units) * unitNs;
      const line = this.#lineOfRow(row, timeNs);
      for (const value of row) if (value !== null) sourceBytes += Buffer.byteLength(value);
      if (line === null) continue;
      const lineBytes = Buffer.byteLength(line);
      if (bytes + lineBytes > this.#options.chunkBytesMax) {
        if (doneUnits === null) {
          throw new ArcError(ErrorKind.badRequest, PostgresErrorCode.timestampTooLarge, `the rows of ${measurement} at one timestamp (${String(timeNs)} ns) are over a chunk's ${String(this.#options.chunkBytesMax)} bytes: a timestamp is never split across chunks`, { time_ns: String(timeNs) });
        }
        lines.length = group.lines;
        sourceBytes = group.sourceBytes;
        maxTimeNs = group.maxTimeNs;
        group = { ...group, units: doneUnits };
        break;
      }
      lines.push(line);
      bytes += lineBytes;
      minTimeNs ??= timeNs;
      maxTimeNs = timeNs;
    }
    assert.ok(group.units !== '', 'a chunk is made of rows');
    this.#afterUnits = BigInt(group.units);
    if (lines.length === 0 || minTimeNs === null || maxTimeNs === null) return null;
    return {
      body: Buffer.from(lines.join('')),
      rowCount: lines.length,
      minTimeNs,
      maxTimeNs,
      measurements: [measurement],
      cursor: cursorText(this.#afterUnits),
      sourceBytes,
      progress: this.#progress(),
    };
  }

  #lineOfRow(row: readonly (string | null)[], timeNs: bigint): string | null {
    const { columns, measurement } = this.#plan;
    const tags: (readonly [string, string])[] = [];
    let index = 1;
    for (const tag of columns.tags) {
      const value = row[index++];
      if (value !== null && value !== undefined) tags.push([tag, value]);
    }
    const fields: (readonly [string, FieldValue])[] = [];
    for (const field of columns.fields) appendField(fields, field, row[index++] ?? null);
    const line = lineOf(measurement, tags, fields, timeNs);
    return line === null ? null : `${line}\n`;
  }

  #progress(): number | null {
    const after = this.#afterUnits;
    const span = this.#plan.endUnits - this.#plan.progressFromUnits;
    if (after === null || span <= 0n) return null;
    const done = Number(after + 1n - this.#plan.progressFromUnits) / Number(span);
    return Math.min(1, Math.max(0, done));
  }
}
