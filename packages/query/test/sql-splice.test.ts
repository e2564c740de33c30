// Proves qualifiedNameEnd finds the end of a (possibly qualified, possibly spaced) table name,
// including a name that runs to the last byte of the SQL text, by calling it on small buffers.
import { describe, expect, it } from 'vitest';
import { applySplices, qualifiedNameEnd } from '../src/sql-splice.js';

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
