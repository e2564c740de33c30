import assert from 'node:assert/strict';
import { LOG_LEVELS, type LogLevel } from '@arc/config';

/** One line of the ring: its level and time, read once when it is kept, and the JSON text as written. */
export interface LogEntry {
  readonly level: LogLevel;
  readonly timeMs: number;
  /** The line's JSON object, without its newline. */
  readonly json: string;
  readonly bytes: number;
}

/** What GET /logs asks for: lines at `levelMin` or above, at or after `sinceMs`, the newest `limit` of them. */
export interface LogFilter {
  readonly levelMin: LogLevel;
  readonly sinceMs: number | null;
  readonly limit: number;
}

export interface LogRingStats {
  readonly lines: number;
  readonly bytes: number;
  readonly linesMax: number;
  readonly bytesMax: number;
  /** Lines pushed out since the start (to make room for newer ones). */
  readonly dropped: number;
}

/** debug < info < warn < error, as config lists them. */
export function levelRank(level: LogLevel): number {
  return LOG_LEVELS.indexOf(level);
}

/**
 * The most recent log lines, bounded in count and in bytes: a full ring drops its oldest line for
 * each new one. A fixed array used circularly, so keeping a line never copies the others.
 */
export class LogRing {
  readonly #entries: (LogEntry | undefined)[];
  readonly #bytesMax: number;
  #start = 0;
  #count = 0;
  #bytes = 0;
  #dropped = 0;

  constructor(linesMax: number, bytesMax: number) {
    assert.ok(Number.isSafeInteger(linesMax) && linesMax >= 0, 'linesMax is a count');
    assert.ok(bytesMax > 0, 'bytesMax is positive');
    this.#entries = new Array<LogEntry | undefined>(linesMax).fill(undefined);
    this.#bytesMax = bytesMax;
  }

  push(entry: LogEntry): void {
    const capacity = this.#entries.length;
    // A ring of no lines keeps nothing; a line larger than the whole ring would empty it for nothing.
    if (capacity === 0 || entry.bytes > this.#bytesMax) return;
    while (this.#count === capacity || this.#bytes + entry.bytes > this.#bytesMax) this.#dropOldest();
    this.#entries[(this.#start + this.#count) % capacity] = entry;
    this.#count += 1;
    this.#bytes += entry.bytes;
  }

  /** The newest `filter.limit` lines that match, oldest first. */
  query(filter: LogFilter): LogEntry[] {
    const rankMin = levelRank(filter.levelMin);
    const matched: LogEntry[] = [];
    for (let index = this.#count - 1; index >= 0 && matched.length < filter.limit; index -= 1) {
      const entry = this.#at(index);
      // Not a break: times follow the wall clock, which may step back.
      if (filter.sinceMs !== null && entry.timeMs < filter.sinceMs) continue;
      if (levelRank(entry.level) >= rankMin) matched.push(entry);
    }
    return matched.reverse();
  }

  stats(): LogRingStats {
    return { lines: this.#count, bytes: this.#bytes, linesMax: this.#entries.length, bytesMax: this.#bytesMax, dropped: this.#dropped };
  }

  #at(index: number): LogEntry {
    const entry = this.#entries[(this.#start + index) % this.#entries.length];
    assert.ok(entry !== undefined, 'every index below count holds a line');
    return entry;
  }

  #dropOldest(): void {
    const oldest = this.#at(0);
    this.#entries[this.#start] = undefined;
    this.#start = (this.#start + 1) % this.#entries.length;
    this.#count -= 1;
    this.#bytes -= oldest.bytes;
    this.#dropped += 1;
  }
}
