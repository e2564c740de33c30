// Proves qualifiedNameEnd finds the end of a (possibly qualified, possibly spaced) table name,
// including a name that runs to the last byte of the SQL text, and expressionEnd the end of a
// bound expression (at AND, a closing bracket, a clause word, a comment, never inside quotes or
// brackets), by calling them on small buffers.
import { describe, expect, it } from 'vitest';
import { applySplices, expressionEnd, qualifiedNameEnd } from '../src/sql-splice.js';

describe('qualifiedNameEnd', () => {
  it('ends a name that runs to the last byte of the text', () => {
    const sql = Buffer.from('SELECT * FROM cpu');
    expect(qualifiedNameEnd(sql, 14, 'cpu')).toBe(sql.length);
  });

  it('follows a qualified name with spaces around the dot, also at the end of the text', () => {
    const sql = Buffer.from('SELECT * FROM metrics . cpu');
    expect(qualifiedNameEnd(sql, 14, 'CPU')).toBe(sql.length);
  });

  it('answers null when the last part differs or a dot ends the text', () => {
    expect(qualifiedNameEnd(Buffer.from('FROM mem WHERE'), 5, 'cpu')).toBeNull();
    expect(qualifiedNameEnd(Buffer.from('FROM db. '), 5, 'cpu')).toBeNull();
  });

  it('splices the name found', () => {
    const sql = Buffer.from('SELECT * FROM db.cpu WHERE x');
    const end = qualifiedNameEnd(sql, 14, 'cpu');
    expect(end).toBe(20);
    expect(applySplices(sql, [{ start: 14, end: 20, text: 'read_parquet([])' }])).toBe('SELECT * FROM read_parquet([]) WHERE x');
  });
});

describe('expressionEnd', () => {
  const boundOf = (sql: string, from: string): string | null => {
    const text = Buffer.from(sql);
    const start = text.indexOf(from);
    const end = expressionEnd(text, start);
    return end === null ? null : text.toString('utf8', start, end);
  };

  it('ends at AND, a clause word, a closing bracket or the end of the text, trailing spaces left out', () => {
    expect(boundOf('SELECT 1 FROM m WHERE time > now() - INTERVAL 1 HOUR', 'now')).toBe('now() - INTERVAL 1 HOUR');
    expect(boundOf('SELECT 1 FROM m WHERE time BETWEEN now() - to_hours(2) AND now() GROUP BY 1', 'now')).toBe('now() - to_hours(2)');
    expect(boundOf('SELECT 1 FROM m WHERE time > now()  GROUP BY 1', 'now')).toBe('now()');
    expect(boundOf('SELECT 1 FROM m WHERE (time > now() - INTERVAL 1 HOUR)', 'now')).toBe('now() - INTERVAL 1 HOUR');
    expect(boundOf('SELECT 1 FROM m WHERE time > now();', 'now')).toBe('now()');
  });

  it('reads through brackets and quotes, and stops at a comment', () => {
    expect(boundOf("SELECT 1 FROM m WHERE time > date_trunc('hour AND ) x', now()) AND v > 1", 'date_trunc')).toBe("date_trunc('hour AND ) x', now())");
    expect(boundOf('SELECT 1 FROM m WHERE time > "and" - 1', '"and"')).toBe('"and" - 1');
    expect(boundOf('SELECT 1 FROM m WHERE time > now() -- an hour\n - INTERVAL 1 HOUR', 'now')).toBe('now()');
    expect(boundOf("SELECT 1 FROM m WHERE time > 'unterminated", "'un")).toBeNull();
  });
});
