import type { ClientBase } from 'pg';
import type { TableColumns } from './postgres-columns.js';
import { timeUnitsSql } from './postgres-columns.js';
import { PG_PARTITIONS_MAX } from './postgres-limits.js';

/**
 * Where a partitioned table's partitions (or a TimescaleDB hypertable's chunks) end in time, so a
 * read can go chunk by chunk: each query is capped at the end of the partition the cursor is in,
 * and the server prunes it to that one partition (and sorts only its rows) instead of the whole
 * table. The bounds only narrow queries, they never decide which rows are read: every query still
 * runs on the whole table with `time > cursor AND time < cap`, so a partition layout the reader
 * does not understand (list or hash partitions, a key that is not the time column, a default
 * partition, overlapping chunks of a space-partitioned hypertable) costs speed, never rows.
 */

/** The partitions' exclusive upper bounds, in the time column's units, ascending and distinct; empty = read the table as one piece. */
export async function partitionEndsOf(client: ClientBase, columns: TableColumns): Promise<bigint[]> {
  const literals = columns.relkind === 'p' ? await declarativeUpperBounds(client, columns) : await hypertableUpperBounds(client, columns);
  if (literals.length === 0 || literals.length > PG_PARTITIONS_MAX) return [];
  // The server converts each bound as it converts the column's values: one rule for both. A bound of
  // a timestamp-without-zone or date key has no offset and is read as the key's own type (UTC), not in the session's zone.
  const cast = columns.time.boundType;
  const converted = await client.query<{ units: string | null }>(
    `SELECT ${timeUnitsSql(columns.time, `v::${cast}`)} AS units FROM unnest($1::text[]) AS u(v)`,
    [literals],
  );
  const ends = new Set<bigint>();
  for (const row of converted.rows) if (row.units !== null) ends.add(BigInt(row.units));
  return [...ends].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Upper bounds of a range-partitioned table whose one partition key is the time column, from each
 * direct partition's `FOR VALUES FROM (...) TO (...)` (pg_get_expr of relpartbound: the only place
 * PostgreSQL shows the bounds). MAXVALUE and infinite bounds are dropped: the read's own end caps them.
 */
async function declarativeUpperBounds(client: ClientBase, columns: TableColumns): Promise<string[]> {
  const key = await client.query<{ strategy: string; keys: number; key: number }>(
    'SELECT partstrat::text AS strategy, partnatts::int AS keys, partattrs[0]::int AS key FROM pg_partitioned_table WHERE partrelid = $1::int8::oid',
    [columns.oid],
  );
  const partitioning = key.rows[0];
  if (partitioning?.strategy !== 'r' || partitioning.keys !== 1 || partitioning.key !== columns.time.attnum) return [];
  const bounds = await client.query<{ bound: string }>(
    'SELECT pg_get_expr(c.relpartbound, c.oid) AS bound FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = $1::int8::oid',
    [columns.oid],
  );
  const literals: string[] = [];
  for (const { bound } of bounds.rows) {
    const upper = upperBoundLiteral(bound);
    if (upper !== null) literals.push(upper);
  }
  return literals;
}

/** The literal of `TO ('...')` or `TO (123)`, quotes undone; null for MAXVALUE, DEFAULT or any other form. */
export function upperBoundLiteral(bound: string): string | null {
  const match = /\bTO \((?:'((?:[^']|'')*)'|(-?\d+))\)$/.exec(bound);
  if (match === null) return null;
  const literal = match[1] === undefined ? match[2] : match[1].replace(/''/g, "'");
  return literal === undefined || literal === 'infinity' ? null : literal;
}

/**
 * A TimescaleDB hypertable's chunk ends on the time dimension, when the extension's information
 * views exist (TimescaleDB 2.x). Integer-time hypertables report `range_end_integer` in the column's
 * own numbers, which are the reader's units.
 */
async function hypertableUpperBounds(client: ClientBase, columns: TableColumns): Promise<string[]> {
  const present = await client.query<{ present: boolean }>("SELECT to_regclass('timescaledb_information.chunks') IS NOT NULL AS present");
  if (present.rows[0]?.present !== true) return [];
  const chunks = await client.query<{ end: string | null }>(
    `SELECT coalesce(range_end::text, range_end_integer::text) AS "end" FROM timescaledb_information.chunks
      WHERE hypertable_schema = $1 AND hypertable_name = $2 AND primary_dimension = $3`,
    [columns.schema, columns.table, columns.time.name],
  );
  return chunks.rows.flatMap((row) => (row.end === null ? [] : [row.end]));
}
