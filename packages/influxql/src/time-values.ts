/**
 * InfluxQL time arithmetic in integer nanoseconds (bigint): InfluxDB's resolution, so literals such
 * as `1700000000000000001` compare exactly. Arc stores microseconds; the SQL side converts at the
 * boundary (where-translator.ts).
 */

/** Duration units, longest spelling first so that `ms` is not read as `m` followed by `s`. */
export const DURATION_UNITS = ['ns', 'ms', 'us', 'u', 'µ', 's', 'm', 'h', 'd', 'w'] as const;
export type DurationUnit = (typeof DURATION_UNITS)[number];

const NANOS_PER_UNIT: Readonly<Record<DurationUnit, bigint>> = {
  ns: 1n,
  us: 1_000n,
  u: 1_000n,
  µ: 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
  d: 86_400_000_000_000n,
  w: 604_800_000_000_000n,
};

export const NANOS_PER_MICRO = 1_000n;

/** `10s` -> 10_000_000_000n; null when the text is not an integer with a known unit. */
export function durationToNanos(text: string): bigint | null {
  const match = /^([0-9]+)(ns|ms|us|u|µ|s|m|h|d|w)$/.exec(text);
  if (match === null) return null;
  const [, digits, unit] = match;
  if (digits === undefined || unit === undefined) return null;
  return BigInt(digits) * NANOS_PER_UNIT[unit as DurationUnit];
}

/** The `epoch` query parameter of InfluxDB 1.x (`n`/`ns` .. `h`): the unit of answer times. */
export const EPOCH_UNITS = ['ns', 'n', 'u', 'µ', 'us', 'ms', 's', 'm', 'h'] as const;
export type EpochUnit = (typeof EPOCH_UNITS)[number];

export function isEpochUnit(text: string): text is EpochUnit {
  return (EPOCH_UNITS as readonly string[]).includes(text);
}

export function epochDivisor(unit: EpochUnit): bigint {
  return unit === 'n' ? 1n : NANOS_PER_UNIT[unit];
}

/** Floor division (times before 1970 round toward minus infinity, as bucket starts must). */
export function floorDiv(value: bigint, divisor: bigint): bigint {
  const quotient = value / divisor;
  return value % divisor !== 0n && value < 0n !== divisor < 0n ? quotient - 1n : quotient;
}

/** A GROUP BY time() offset as InfluxDB applies it, within [0, interval): `time(1h, -15m)` is `time(1h, 45m)`, `time(1h, 75m)` is `time(1h, 15m)`. */
export function normalisedOffset(offsetNanos: bigint, intervalNanos: bigint): bigint {
  return offsetNanos - floorDiv(offsetNanos, intervalNanos) * intervalNanos;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?$/;

/**
 * `2024-01-01T00:00:00Z`, `2024-01-01T00:00:00.123456789+02:00`, `2024-01-01 00:00:00` and
 * `2024-01-01` (UTC when no zone is given, as InfluxDB reads them) -> nanoseconds since 1970.
 */
export function parseTimeLiteral(text: string): bigint | null {
  const match = RFC3339.exec(text);
  if (match === null) return null;
  const [, year, month, day, hour = '0', minute = '0', second = '0', fraction = '', zone = 'Z'] = match;
  const ms = Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second));
  const date = new Date(ms);
  // Date.UTC rolls 2024-02-30 over into March; InfluxDB refuses such a date.
  if (Number.isNaN(ms) || date.getUTCDate() !== Number(day) || date.getUTCHours() !== Number(hour) || date.getUTCSeconds() !== Number(second)) {
    return null;
  }
  let nanos = BigInt(ms) * 1_000_000n + BigInt(fraction.padEnd(9, '0'));
  if (zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1n : 1n;
    const offsetMinutes = BigInt(Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
    nanos -= sign * offsetMinutes * NANOS_PER_UNIT.m;
  }
  return nanos;
}

/** RFC 3339 with the fraction trimmed of trailing zeros, as Go's time.RFC3339Nano prints it. */
export function formatRfc3339Nano(nanos: bigint): string {
  const seconds = floorDiv(nanos, NANOS_PER_UNIT.s);
  const fraction = nanos - seconds * NANOS_PER_UNIT.s;
  const whole = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  if (fraction === 0n) return `${whole}Z`;
  return `${whole}.${fraction.toString().padStart(9, '0').replace(/0+$/, '')}Z`;
}

/** A duration as InfluxDB prints one (`168h0m0s`, `0s`). */
export function formatGoDuration(nanos: bigint): string {
  if (nanos === 0n) return '0s';
  const hours = nanos / NANOS_PER_UNIT.h;
  const minutes = (nanos % NANOS_PER_UNIT.h) / NANOS_PER_UNIT.m;
  const seconds = (nanos % NANOS_PER_UNIT.m) / NANOS_PER_UNIT.s;
  return `${hours.toString()}h${minutes.toString()}m${seconds.toString()}s`;
}
