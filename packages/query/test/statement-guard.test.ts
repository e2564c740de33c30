// Proves that a statement checked once is answered from the guard's memory the next time (the
// same frozen tree, no second parse), that a refused statement is refused again every time, and
// that texts differing only in spacing are parsed each on its own, on a real DuckDB connection.
import { describe, expect, it } from 'vitest';
import { StatementGuard } from '../src/statement-guard.js';
import { sharedConnection } from './duckdb-connection.js';

const connection = sharedConnection();

describe('StatementGuard parse memory', () => {
  it('answers a repeated statement with the tree of its first check, frozen', async () => {
    const guard = await StatementGuard.create(connection());
    const first = await guard.check('SELECT 1 AS one');
    const second = await guard.check('SELECT 1 AS one');
    expect(second).toBe(first);
    expect(Object.isFrozen(first.statement)).toBe(true);
    expect(() => {
      (first.statement as { type: unknown }).type = 'CHANGED';
    }).toThrow(TypeError);
    expect(first.statement.type).toBe('SELECT_NODE');
  });

  it('refuses a non-SELECT statement every time it is sent', async () => {
    const guard = await StatementGuard.create(connection());
    for (let round = 0; round < 2; round++) {
      await expect(guard.check('CREATE TABLE t (x INTEGER)')).rejects.toMatchObject({ code: 'ARC_SQL_FORBIDDEN' });
    }
  });

  it('keeps the quoted default name and the EXPLAIN prefix of a remembered statement', async () => {
    const guard = await StatementGuard.create(connection());
    const sql = 'EXPLAIN SELECT * FROM default.cpu';
    const first = await guard.check(sql);
    const second = await guard.check(sql);
    expect(second).toBe(first);
    expect(second.sql).toBe('SELECT * FROM "default".cpu');
    expect(second.explainPrefix).toBe('EXPLAIN ');
  });

  it('parses texts that differ only in spacing each on its own', async () => {
    const guard = await StatementGuard.create(connection());
    const tight = await guard.check('SELECT 1');
    const spaced = await guard.check('SELECT  1');
    expect(spaced).not.toBe(tight);
    expect(spaced.sql).toBe('SELECT  1');
  });
});
