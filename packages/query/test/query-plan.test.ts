// Proves which reads of a statement need their measurement's view: only those whose every
// reference is bounded in time by expressions that read no relation (constants, now() - INTERVAL
// 1 HOUR) go without (the engine splices their pruned files in, so the view, whose making reads
// every file's footer, is never made for them).
import { describe, expect, it } from 'vitest';
import { planStatement } from '../src/query-plan.js';
import type { StatementPlan } from '../src/query-plan.js';
import type { SqlNode } from '../src/sql-tree.js';
import { sharedConnection } from './duckdb-connection.js';

const connection = sharedConnection();
const catalog = new Map([['db', new Set(['cpu', 'mem'])]]);

async function selectPlan(sql: string): Promise<Extract<StatementPlan, { kind: 'select' }>> {
  const reader = await connection().runAndReadAll('SELECT json_serialize_sql($1::VARCHAR)', [sql]);
  const text = reader.getRowsJS()[0]?.[0];
  if (typeof text !== 'string') throw new Error('json_serialize_sql gives VARCHAR');
  const tree = JSON.parse(text) as { statements: { node: SqlNode }[] };
  const statement = tree.statements[0]?.node;
  if (statement === undefined) throw new Error(`no statement in ${sql}`);
  const plan = planStatement(statement, { defaultDatabase: 'db', catalog, readable: null });
  if (plan.kind !== 'select') throw new Error(`not a select: ${sql}`);
  return plan;
}

async function boundedOnly(sql: string): Promise<string[]> {
  return (await selectPlan(sql)).boundedOnly.map((read) => read.measurement);
}

describe('reads that need no view', () => {
  it('are those bounded by constants at every reference', async () => {
    expect(await boundedOnly("SELECT count(*) FROM cpu WHERE time >= TIMESTAMP '2025-01-01 00:00:00' AND time < '2025-01-01 01:00:00'")).toEqual(['cpu']);
    expect(await boundedOnly("SELECT * FROM cpu c JOIN mem m ON c.time = m.time WHERE c.time > '2025-01-01' AND m.time > '2025-01-01'")).toEqual(['cpu', 'mem']);
  });

  it('are those bounded by expressions DuckDB evaluates that read no relation (now() - INTERVAL)', async () => {
    expect(await boundedOnly('SELECT * FROM cpu WHERE time > now() - INTERVAL 1 HOUR')).toEqual(['cpu']);
    expect(await boundedOnly("SELECT * FROM cpu WHERE time BETWEEN now() - INTERVAL '15 minutes' AND now()")).toEqual(['cpu']);
    expect(await boundedOnly('SELECT * FROM cpu c JOIN mem m ON c.time = m.time WHERE c.time >= now() - to_hours(1) AND m.time > now() - to_hours(2)')).toEqual(['cpu', 'mem']);
    expect(await boundedOnly('WITH recent AS (SELECT * FROM cpu WHERE time > now() - INTERVAL 1 HOUR) SELECT count(*) FROM recent')).toEqual(['cpu']);
    expect(await boundedOnly("SELECT * FROM cpu WHERE time > now() - INTERVAL 1 HOUR AND time < '2030-01-01' UNION ALL SELECT * FROM mem WHERE time > '2025-01-01'")).toEqual(['cpu', 'mem']);
  });

  it('are not those read once without a bound, or bounded through a subquery', async () => {
    expect(await boundedOnly('SELECT count(*) FROM cpu')).toEqual([]);
    expect(await boundedOnly("SELECT * FROM cpu WHERE time > '2025-01-01' UNION ALL SELECT * FROM cpu")).toEqual([]);
    expect(await boundedOnly("SELECT * FROM cpu c JOIN mem m ON c.time = m.time WHERE c.time > '2025-01-01'")).toEqual(['cpu']);
    // A subquery bounds nothing (cpu reads its view); the subquery's own mem is bounded by a constant.
    expect(await boundedOnly("SELECT * FROM cpu WHERE time > (SELECT max(time) FROM mem WHERE time > '2025-01-01')")).toEqual(['mem']);
    expect(await boundedOnly('SELECT * FROM cpu WHERE time > (SELECT max(time) FROM mem) - INTERVAL 1 HOUR')).toEqual([]);
    // A non-time column compared with now() bounds nothing.
    expect(await boundedOnly('SELECT * FROM cpu WHERE other > now() - INTERVAL 1 HOUR')).toEqual([]);
  });
});

describe('answers that change between runs', () => {
  it('are those of statements calling now(), current_timestamp and their kin (never cached)', async () => {
    expect((await selectPlan("SELECT count(*) FROM cpu WHERE time > '2025-01-01'")).deterministic).toBe(true);
    expect((await selectPlan('SELECT count(*) FROM cpu WHERE time > now() - INTERVAL 1 HOUR')).deterministic).toBe(false);
    expect((await selectPlan('SELECT count(*) FROM cpu WHERE time > current_timestamp - INTERVAL 1 HOUR')).deterministic).toBe(false);
    expect((await selectPlan('SELECT current_date')).deterministic).toBe(false);
  });
});
