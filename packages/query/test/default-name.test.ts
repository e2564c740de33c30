// Proves that the database name `default` is quoted only where DuckDB's parser stopped on it as a
// name (before a dot, after FROM / JOIN, or at the dot after it in a select list), with positions
// counted in code points as DuckDB reports them, and never inside literals, comments or other words.
import { describe, expect, it } from 'vitest';
import { quoteDefaultAt } from '../src/default-name.js';

/** The code point offset of the first `marker` in `sql`: where the parser would stop. */
function at(sql: string, marker: string): number {
  const index = sql.indexOf(marker);
  expect(index).toBeGreaterThanOrEqual(0);
  return Array.from(sql.slice(0, index)).length;
}

describe('quoteDefaultAt', () => {
  it('quotes default before a dot and after FROM / JOIN', () => {
    expect(quoteDefaultAt('SELECT * FROM default.cpu', 14)).toEqual({ sql: 'SELECT * FROM "default".cpu', at: 14 });
    expect(quoteDefaultAt('SHOW TABLES FROM DEFAULT', 17)).toEqual({ sql: 'SHOW TABLES FROM "DEFAULT"', at: 17 });
    const join = 'SELECT * FROM cpu JOIN default . mem USING (host)';
    expect(quoteDefaultAt(join, at(join, 'default'))?.sql).toBe('SELECT * FROM cpu JOIN "default" . mem USING (host)');
  });

  it('quotes the word before the dot the parser stopped at (SELECT default.cpu.usage)', () => {
    const sql = 'SELECT default.cpu.usage FROM "default".cpu';
    expect(quoteDefaultAt(sql, at(sql, '.cpu.usage'))).toEqual({ sql: 'SELECT "default".cpu.usage FROM "default".cpu', at: 7 });
  });

  it('counts positions in code points, as DuckDB does', () => {
    const sql = "SELECT '😀é' AS s FROM default.cpu";
    const quoted = quoteDefaultAt(sql, at(sql, 'default'));
    expect(quoted).toEqual({ sql: "SELECT '😀é' AS s FROM \"default\".cpu", at: at(sql, 'default') });
  });

  it('leaves everything else to the parser error', () => {
    // DEFAULT as the keyword it is (no dot, not after FROM / JOIN).
    expect(quoteDefaultAt('SELECT DEFAULT', 7)).toBeNull();
    expect(quoteDefaultAt('INSERT INTO t VALUES (DEFAULT)', 22)).toBeNull();
    // A longer word, a quoted name, a position elsewhere or past the end.
    expect(quoteDefaultAt('SELECT * FROM defaults.cpu', 14)).toBeNull();
    expect(quoteDefaultAt('SELECT * FROM "default".cpu', 15)).toBeNull();
    expect(quoteDefaultAt('SELECT * FROM default.cpu WHERE', 26)).toBeNull();
    expect(quoteDefaultAt('SELECT * FROM default.cpu', 99)).toBeNull();
    expect(quoteDefaultAt('SELECT * FROM default.cpu', Number.NaN)).toBeNull();
  });
});
