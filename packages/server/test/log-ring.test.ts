// Proves the ring behind GET /logs stays within its line and byte bounds, dropping the oldest
// lines first, and filters by level, time and count, by filling rings far past their bounds.
import { describe, expect, it } from 'vitest';
import type { LogLevel } from '@arc/config';
import { LogRing, type LogEntry } from '../src/log-ring.js';

function entry(index: number, level: LogLevel = 'info', bytes = 100): LogEntry {
  return { level, timeMs: 1_000 + index, json: JSON.stringify({ level, n: index }), bytes };
}

const ALL = { levelMin: 'debug', sinceMs: null, limit: 1_000_000 } as const;

describe('LogRing', () => {
  it('keeps the newest lines up to its line bound', () => {
    const ring = new LogRing(10, 1_000_000);
    for (let index = 0; index < 1000; index += 1) ring.push(entry(index));
    expect(ring.query(ALL).map((kept) => kept.timeMs - 1_000)).toEqual([990, 991, 992, 993, 994, 995, 996, 997, 998, 999]);
    expect(ring.stats()).toMatchObject({ lines: 10, bytes: 1000, dropped: 990 });
  });

  it('keeps the newest lines up to its byte bound', () => {
    const ring = new LogRing(1000, 1000);
    for (let index = 0; index < 100; index += 1) ring.push(entry(index, 'info', 300));
    expect(ring.stats()).toMatchObject({ lines: 3, bytes: 900 });
    expect(ring.query(ALL).map((kept) => kept.timeMs - 1_000)).toEqual([97, 98, 99]);
  });

  it('skips a line larger than the whole ring instead of emptying it', () => {
    const ring = new LogRing(10, 1000);
    ring.push(entry(1));
    ring.push(entry(2, 'error', 1001));
    expect(ring.query(ALL)).toHaveLength(1);
  });

  it('keeps nothing with no lines allowed', () => {
    const ring = new LogRing(0, 1000);
    ring.push(entry(1));
    expect(ring.query(ALL)).toEqual([]);
  });

  it('filters by level and above, by time, and answers the newest matches oldest first', () => {
    const ring = new LogRing(100, 1_000_000);
    const levels: LogLevel[] = ['debug', 'info', 'warn', 'error'];
    for (let index = 0; index < 40; index += 1) ring.push(entry(index, levels[index % 4]));
    const warnAndUp = ring.query({ levelMin: 'warn', sinceMs: null, limit: 1000 });
    expect(warnAndUp).toHaveLength(20);
    expect(warnAndUp.every((kept) => kept.level === 'warn' || kept.level === 'error')).toBe(true);
    expect(ring.query({ levelMin: 'error', sinceMs: 1_030, limit: 1000 }).map((kept) => kept.timeMs - 1_000)).toEqual([31, 35, 39]);
    expect(ring.query({ levelMin: 'debug', sinceMs: null, limit: 2 }).map((kept) => kept.timeMs - 1_000)).toEqual([38, 39]);
    expect(ring.query({ levelMin: 'debug', sinceMs: 5_000, limit: 10 })).toEqual([]);
  });
});
