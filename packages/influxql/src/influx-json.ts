import type { Cell, Series, StatementResult } from './series.js';
import { epochDivisor, floorDiv, formatRfc3339Nano, type EpochUnit } from './time-values.js';
import { formatRfc3339InZone } from './time-zones.js';

/**
 * Writes InfluxDB 1.x's answer `{"results":[{"statement_id":0,"series":[{"name","tags"?,
 * "columns","values"}]}]}` by hand: times are exact nanosecond integers (beyond 2^53) when an
 * `epoch` is given, RFC 3339 strings otherwise, and int64 values print as their digits.
 */
export function serializeResults(results: readonly StatementResult[], epoch: EpochUnit | null): string {
  const parts = results.map((result, index) => {
    const head = `"statement_id":${String(index)}`;
    if ('error' in result) return `{${head},"error":${JSON.stringify(result.error)}}`;
    if (result.series.length === 0) return `{${head}}`;
    return `{${head},"series":[${result.series.map((series) => serializeSeries(series, epoch)).join(',')}]}`;
  });
  return `{"results":[${parts.join(',')}]}`;
}

/** One series as InfluxDB writes it; `partial` (chunked answers) marks a series continued in the next chunk. */
export function serializeSeries(series: Series, epoch: EpochUnit | null, partial = false): string {
  const fields: string[] = [];
  if (series.name !== null) fields.push(`"name":${JSON.stringify(series.name)}`);
  if (series.tags !== null) fields.push(`"tags":${JSON.stringify(series.tags)}`);
  fields.push(`"columns":${JSON.stringify(series.columns)}`);
  if (series.values.length > 0) {
    const rows = series.values.map((row) => `[${row.map((cell, index) => (index === 0 && series.timeColumn ? timeText(cell, epoch, series.timeZone) : cellText(cell))).join(',')}]`);
    fields.push(`"values":[${rows.join(',')}]`);
  }
  if (partial) fields.push('"partial":true');
  return `{${fields.join(',')}}`;
}

function timeText(cell: Cell, epoch: EpochUnit | null, timeZone: string | undefined): string {
  const nanos = typeof cell === 'bigint' ? cell : BigInt(Number(cell));
  if (epoch === null && timeZone !== undefined) return `"${formatRfc3339InZone(nanos, timeZone, formatRfc3339Nano)}"`;
  if (epoch === null) return `"${formatRfc3339Nano(nanos)}"`;
  return floorDiv(nanos, epochDivisor(epoch)).toString();
}

function cellText(cell: Cell): string {
  if (typeof cell === 'bigint') return cell.toString();
  // JSON has no NaN or Infinity: InfluxDB never stores them; Arc may, and answers null like its SQL answers.
  if (typeof cell === 'number') return Number.isFinite(cell) ? JSON.stringify(cell) : 'null';
  return JSON.stringify(cell);
}
