import { hostname } from 'node:os';
// Proves the layout is one description both ways: a file's key (partition of its UTC hour, node
// id, rows, time bounds) parses back to what it was made from, old-style names still parse with
// their hour's bounds, and anything off the layout (staged files, bad hours, bad names) does not.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MICROS_PER_HOUR, compactedUnique, compareWriteOrder, dataFileKey, hourLastUs, hourPartitionPath, hourStartUs, isCompactedKey, localNodeIdSync, parseFileKey, writePositionOf } from '../src/index.js';

const micros = (iso: string): number => Date.parse(iso) * 1000;

describe('layout', () => {
  it('puts a time in its UTC hour directory, also before 1970', () => {
    expect(hourPartitionPath(micros('2025-01-01T00:59:59.999Z'))).toBe('2025/01/01/00');
    expect(hourPartitionPath(-1)).toBe('1969/12/31/23');
  });

  it('names a file with node, rows, size and time bounds, and reads them back', () => {
    const hourUs = micros('2025-10-16T16:00:00Z');
    const key = dataFileKey({ database: 'db', measurement: 'cpu', hourUs, nodeId: 'n1a2b', unique: 'w0-000001-abcdef', rows: 42, bytes: 1234, minTimeUs: hourUs + 5, maxTimeUs: hourUs + 99, writtenAtMs: Date.parse('2025-10-16T16:30:00Z'), schemaId: '0123456789abcdef' });
    expect(key).toBe(`db/cpu/2025/10/16/16/20251016T163000_n1a2b_w0-000001-abcdef_42r_1234b_${String(hourUs + 5)}_${String(hourUs + 99)}_0123456789abcdef.parquet`);
    expect(parseFileKey(key)).toEqual({ database: 'db', measurement: 'cpu', hourUs, rows: 42, bytes: 1234, minTimeUs: hourUs + 5, maxTimeUs: hourUs + 99, nodeId: 'n1a2b', schemaId: '0123456789abcdef', span: 'hour', order: '20251016T163000_n1a2b_w0-000001-abcdef' });
    // Named before schema ids: the same facts, columns unknown.
    expect(parseFileKey(key.replace('_0123456789abcdef.parquet', '.parquet'))).toEqual({ database: 'db', measurement: 'cpu', hourUs, rows: 42, bytes: 1234, minTimeUs: hourUs + 5, maxTimeUs: hourUs + 99, nodeId: 'n1a2b', schemaId: null, span: 'hour', order: '20251016T163000_n1a2b_w0-000001-abcdef' });
  });

  it('names a day file in its day directory, and refuses rows outside the day', () => {
    const dayUs = micros('2025-10-16T00:00:00Z');
    const file = { database: 'db', measurement: 'cpu', hourUs: dayUs, nodeId: 'n1', unique: 'w0-000001-abcdef-c1f2', rows: 2, bytes: 10, minTimeUs: dayUs + 7, maxTimeUs: dayUs + 23 * MICROS_PER_HOUR + 5, writtenAtMs: Date.parse('2025-10-17T03:00:00Z'), schemaId: '0123456789abcdef', span: 'day' as const };
    const key = dataFileKey(file);
    expect(key.startsWith('db/cpu/2025/10/16/20251017T030000_n1_')).toBe(true);
    expect(parseFileKey(key)).toMatchObject({ hourUs: dayUs, span: 'day', minTimeUs: dayUs + 7, maxTimeUs: dayUs + 23 * MICROS_PER_HOUR + 5 });
    expect(() => dataFileKey({ ...file, maxTimeUs: dayUs + 24 * MICROS_PER_HOUR })).toThrow(/partition/);
    // A day directory holds only named files: a stray name there is not Arc's.
    expect(parseFileKey('db/cpu/2025/10/16/cpu.parquet')).toBeNull();
  });

  it('orders files by write position, and a compacted file right after its newest input', () => {
    const hourUs = micros('2025-10-16T16:00:00Z');
    const named = (unique: string, writtenAt: string) => {
      const key = dataFileKey({ database: 'db', measurement: 'cpu', hourUs, nodeId: 'n1', unique, rows: 1, bytes: 1, minTimeUs: hourUs, maxTimeUs: hourUs, writtenAtMs: Date.parse(writtenAt), schemaId: '0123456789abcdef' });
      const facts = parseFileKey(key);
      if (facts === null) throw new Error('parsed');
      return { key, order: facts.order };
    };
    const first = named('w0-000001-aaaaaa', '2025-10-16T16:00:01Z');
    const second = named('w0-000002-000000', '2025-10-16T16:00:01Z');
    const third = named('w0-000003-ffffff', '2025-10-16T16:00:01Z');
    const later = named('w0-000001-000000', '2025-10-16T16:00:02Z');
    const position = writePositionOf(second.key);
    expect(position).toEqual({ writtenAtMs: Date.parse('2025-10-16T16:00:01Z'), nodeId: 'n1', unique: 'w0-000002-000000' });
    if (position === null) throw new Error('position');
    const compacted = named(compactedUnique(position, 'zz9'), '2025-10-16T16:00:01Z');
    expect(isCompactedKey(compacted.key)).toBe(true);
    expect(isCompactedKey(second.key)).toBe(false);
    // A writer's random field may start with 'c': that is not the compaction mark.
    expect(isCompactedKey(named('w0-000004-c0ffee', '2025-10-16T16:00:01Z').key)).toBe(false);
    // Compacting the compacted file again keeps its writer part: the name does not grow.
    const again = writePositionOf(compacted.key);
    if (again === null) throw new Error('position');
    expect(compactedUnique(again, 'a1')).toBe('w0-000002-000000-ca1');
    const sorted = [later, third, compacted, second, first].sort(compareWriteOrder).map((file) => file.key);
    expect(sorted).toEqual([first.key, second.key, compacted.key, third.key, later.key]);
    expect(compareWriteOrder({ order: null, key: 'a' }, first)).toBeLessThan(0);
  });

  it('reads a file named before row counts with its hour as bounds', () => {
    const hourUs = micros('2025-10-16T16:00:00Z');
    expect(parseFileKey('db/cpu/2025/10/16/16/cpu_20251016_160000_w0-00001-abc.parquet')).toEqual({ database: 'db', measurement: 'cpu', hourUs, rows: null, bytes: null, minTimeUs: hourUs, maxTimeUs: hourUs + MICROS_PER_HOUR - 1, nodeId: null, schemaId: null, span: 'hour', order: null });
  });

  it.each([
    'db/cpu/2025/10/16/16/x.parquet.tmp',
    'db/cpu/2025/13/16/16/x.parquet',
    'db/cpu/2025/10/16/24/x.parquet',
    'db/cpu/2025/10/16/x.parquet',
    'db/cpu/2025/10/16/16/extra/x.parquet',
    'db/cpu/_schemas/0123456789abcdef.json',
    'bad name/cpu/2025/10/16/16/x.parquet',
    '.arc-node-id',
  ])('does not take %s for a data file', (key) => {
    expect(parseFileKey(key)).toBeNull();
  });
});

describe('localNodeIdSync', () => {
  it('makes the id once, keeps it, and leaves no staging file behind', () => {
    const root = mkdtempSync(join(tmpdir(), 'arc-node-id-'));
    try {
      const id = localNodeIdSync(root);
      // The host name and a hash of the directory: two data directories on one host differ.
      expect(id).toMatch(/^[a-z0-9][a-z0-9-]*-[0-9a-f]{6}$/);
      expect(id.startsWith(hostname().toLowerCase().replace(/[^a-z0-9-]+/g, '-').slice(0, 10))).toBe(true);
      expect(localNodeIdSync(root)).toBe(id);
      expect(readdirSync(root)).toEqual(['.arc-node-id']);
      const other = mkdtempSync(join(tmpdir(), 'arc-node-id-'));
      try {
        expect(localNodeIdSync(other)).not.toBe(id);
      } finally {
        rmSync(other, { recursive: true, force: true });
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('hourLastUs', () => {
  it('is the last microsecond of the hour, and stays in the hour beyond 2^53 µs (InfluxDB 1677 and 2262)', () => {
    expect(hourLastUs(0)).toBe(MICROS_PER_HOUR - 1);
    // InfluxDB's extreme times in µs and just past 2^53, as the doubles the writer holds.
    for (const micros of [-9_223_372_036_854_775n, 9_223_372_036_854_775n, 9_007_199_254_740_993n, -9_007_199_254_740_993n].map(Number)) {
      const hourUs = hourStartUs(micros);
      const last = hourLastUs(hourUs);
      expect(last).toBeGreaterThanOrEqual(hourUs);
      expect(last).toBeLessThan(hourUs + MICROS_PER_HOUR);
      expect(hourStartUs(last)).toBe(hourUs);
    }
  });
});
