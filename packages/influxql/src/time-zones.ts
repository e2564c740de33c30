import assert from 'node:assert/strict';
import { StatementFailure } from './sql-text.js';
import { NANOS_PER_MICRO, floorDiv } from './time-values.js';

/**
 * `tz('Europe/Paris')`: GROUP BY time() buckets start at local boundaries (local midnight for 1d)
 * and answer times are printed with the zone's offset, as InfluxDB 1.x does. Zone offsets come
 * from the IANA database Node carries (Intl); DuckDB only sees them as constants.
 */

const NANOS_PER_MILLI = 1_000_000n;
const NANOS_PER_MINUTE = 60_000_000_000n;
const DAY_NANOS = 86_400_000_000_000n;
/**
 * Zone offset changes (DST) are searched day by day over the query's range; this many days at
 * most (ten years), so an unbounded range does not scan from 1970. Outside it the nearest
 * offset found holds.
 */
const ZONE_SCAN_DAYS_MAX = 3660;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let found = formatters.get(zone);
  if (found === undefined) {
    found = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(zone, found);
  }
  return found;
}

/** True when Node knows the zone (InfluxDB refuses unknown ones). */
export function isTimeZone(zone: string): boolean {
  try {
    formatter(zone);
    return true;
  } catch {
    return false;
  }
}

/** The zone's offset from UTC (ns, east positive) at an instant. */
export function zoneOffsetNanos(zone: string, nanos: bigint): bigint {
  const millis = Number(floorDiv(nanos, 1_000n * NANOS_PER_MICRO));
  const seconds = Math.floor(millis / 1000) * 1000;
  const parts = Object.fromEntries(formatter(zone).formatToParts(new Date(seconds)).map((part) => [part.type, part.value]));
  const local = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  return BigInt(local - seconds) * NANOS_PER_MILLI;
}

/** One stretch of constant offset: from `fromNanos` (null: the beginning of time) on. */
export interface ZoneSegment {
  readonly fromNanos: bigint | null;
  readonly offsetNanos: bigint;
}

/** A zone's offsets over a range, oldest first: never empty, the first from the beginning of time. */
export type ZoneSegments = readonly [ZoneSegment, ...ZoneSegment[]];

/** The offsets in force between two instants (bounded by ZONE_SCAN_DAYS_MAX days), oldest first. */
export function zoneSegments(zone: string, fromNanos: bigint, toNanos: bigint): ZoneSegments {
  // The offset of the last segment, which each day is compared with.
  let current = zoneOffsetNanos(zone, fromNanos);
  const segments: [ZoneSegment, ...ZoneSegment[]] = [{ fromNanos: null, offsetNanos: current }];
  const end = toNanos - fromNanos > BigInt(ZONE_SCAN_DAYS_MAX) * DAY_NANOS ? fromNanos + BigInt(ZONE_SCAN_DAYS_MAX) * DAY_NANOS : toNanos;
  for (let day = fromNanos; day < end; day += DAY_NANOS) {
    if (zoneOffsetNanos(zone, day + DAY_NANOS) === current) continue;
    // Narrow the change down to the minute (every zone changes on a minute).
    let low = day;
    let high = day + DAY_NANOS;
    while (high - low > NANOS_PER_MINUTE) {
      const middle = low + floorDiv(high - low, 2n * NANOS_PER_MINUTE) * NANOS_PER_MINUTE;
      if (zoneOffsetNanos(zone, middle) === current) low = middle;
      else high = middle;
    }
    current = zoneOffsetNanos(zone, high);
    segments.push({ fromNanos: high, offsetNanos: current });
  }
  return segments;
}

function offsetAt(segments: ZoneSegments, nanos: bigint): bigint {
  let offset = segments[0].offsetNanos;
  for (const segment of segments) if (segment.fromNanos === null || nanos >= segment.fromNanos) offset = segment.offsetNanos;
  return offset;
}

/** Where a segment after the first starts (only the first runs from the beginning of time). */
function changeStart(segment: ZoneSegment): bigint {
  assert.ok(segment.fromNanos !== null, 'a change of offset has an instant');
  return segment.fromNanos;
}

/**
 * InfluxDB's window start for a time (its IteratorOptions.Window): floored to the interval in
 * local time, then moved by the offset change between the time and that start when the change
 * is shorter than the interval (so 1d buckets start at local midnight across DST).
 */
export function zonedBucketStart(segments: ZoneSegments, intervalNanos: bigint, offsetNanos: bigint, nanos: bigint): bigint {
  const shifted = nanos - offsetNanos;
  const zone = offsetAt(segments, shifted);
  const remainder = (((shifted + zone) % intervalNanos) + intervalNanos) % intervalNanos;
  let start = shifted - remainder;
  const change = zone - offsetAt(segments, start);
  if (change !== 0n && (change < 0n ? -change : change) < intervalNanos) start += change;
  return start + offsetNanos;
}

/** The same window start in SQL over a µs BIGINT expression (segments become a CASE). */
export function zonedBucketSql(segments: ZoneSegments, intervalNanos: bigint, offsetNanos: bigint, micros: string): string {
  if (intervalNanos % NANOS_PER_MICRO !== 0n || offsetNanos % NANOS_PER_MICRO !== 0n) {
    throw new StatementFailure('GROUP BY time() interval and offset must be whole microseconds (Arc stores microsecond times)');
  }
  const interval = (intervalNanos / NANOS_PER_MICRO).toString();
  const offset = (offsetNanos / NANOS_PER_MICRO).toString();
  const zoneOf = (expression: string): string => {
    const [initial, ...changes] = segments;
    const first = (initial.offsetNanos / NANOS_PER_MICRO).toString();
    if (changes.length === 0) return first;
    const branches = changes.map((segment) => `WHEN ${expression} >= ${floorDiv(changeStart(segment), NANOS_PER_MICRO).toString()} THEN ${(segment.offsetNanos / NANOS_PER_MICRO).toString()}`);
    return `(CASE ${branches.reverse().join(' ')} ELSE ${first} END)`;
  };
  const shifted = `(${micros} - ${offset})`;
  const floored = `(${shifted} - (((${shifted} + ${zoneOf(shifted)}) % ${interval}) + ${interval}) % ${interval})`;
  const change = `(${zoneOf(shifted)} - ${zoneOf(floored)})`;
  return `(${floored} + CASE WHEN ${change} <> 0 AND abs(${change}) < ${interval} THEN ${change} ELSE 0 END + ${offset})`;
}

/** RFC 3339 with the zone's offset (`2023-11-15T03:40:00+05:30`; `Z` when the offset is 0), as Go prints it. */
export function formatRfc3339InZone(nanos: bigint, zone: string, formatUtc: (nanos: bigint) => string): string {
  const offset = zoneOffsetNanos(zone, nanos);
  const local = formatUtc(nanos + offset);
  if (offset === 0n) return local;
  const minutes = Number((offset < 0n ? -offset : offset) / NANOS_PER_MINUTE);
  const sign = offset < 0n ? '-' : '+';
  return `${local.slice(0, -1)}${sign}${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}
