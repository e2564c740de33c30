import { badRequest, type ArcError } from '@arc/errors';
import { ProtocolErrorCode } from './error-codes.js';

/**
 * The unit of line protocol timestamps, chosen per request by `?precision=`. InfluxDB 2.x knows
 * ns, us, ms and s; InfluxDB 1.x also the aliases `n` and `u` and the units minute and hour.
 */
export const LineProtocolPrecision = {
  ns: 'ns',
  us: 'us',
  ms: 'ms',
  s: 's',
  m: 'm',
  h: 'h',
} as const;
export type LineProtocolPrecision = (typeof LineProtocolPrecision)[keyof typeof LineProtocolPrecision];

/** Which InfluxDB API the request came in by: it decides which precision names are accepted. */
export type LineProtocolDialect = 'v1' | 'v2';

const V2_PRECISIONS: ReadonlyMap<string, LineProtocolPrecision> = new Map([
  ['ns', LineProtocolPrecision.ns],
  ['us', LineProtocolPrecision.us],
  ['ms', LineProtocolPrecision.ms],
  ['s', LineProtocolPrecision.s],
]);

const V1_PRECISIONS: ReadonlyMap<string, LineProtocolPrecision> = new Map([
  ...V2_PRECISIONS,
  ['n', LineProtocolPrecision.ns],
  ['u', LineProtocolPrecision.us],
  ['m', LineProtocolPrecision.m],
  ['h', LineProtocolPrecision.h],
]);

/** `?precision=` of a write request; absent or empty means nanoseconds, as in InfluxDB. */
export function parsePrecision(text: string | null, dialect: LineProtocolDialect): LineProtocolPrecision | ArcError {
  if (text === null || text === '') return LineProtocolPrecision.ns;
  const precisions = dialect === 'v1' ? V1_PRECISIONS : V2_PRECISIONS;
  const precision = precisions.get(text);
  if (precision !== undefined) return precision;
  return badRequest(ProtocolErrorCode.lpBadPrecision, `Invalid precision '${text}': use one of ${[...precisions.keys()].join(', ')}`, {
    precision: text,
  });
}

/** Microseconds in one unit of each precision coarser than a microsecond (ns is divided instead). */
export const MICROS_PER_PRECISION_UNIT: Readonly<Record<Exclude<LineProtocolPrecision, 'ns'>, number>> = {
  us: 1,
  ms: 1_000,
  s: 1_000_000,
  m: 60_000_000,
  h: 3_600_000_000,
};
