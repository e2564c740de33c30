import assert from 'node:assert/strict';
import type { FillOption } from './ast.js';
import { GROUP_BY_BUCKETS_MAX } from './limits.js';
import type { SelectPlan } from './select-planner.js';
import { rowsOf, sliceLimit, type Cell, type ColumnarResult, type Series } from './series.js';
import { StatementFailure } from './sql-text.js';
import { NANOS_PER_MICRO } from './time-values.js';

const EPOCH_NANOS = 0n;

interface RawSeries {
  readonly tagValues: readonly string[];
  readonly rows: Cell[][];
}

function toNanos(micros: Cell): bigint {
  if (typeof micros === 'bigint') return micros * NANOS_PER_MICRO;
  if (typeof micros === 'number') return BigInt(micros) * NANOS_PER_MICRO;
  return 0n;
}

/** Splits rows (ordered by tags) into one group per tag set; tag columns are taken off. */
function groupByTags(rows: readonly Cell[][], tagCount: number): RawSeries[] {
  const groups: RawSeries[] = [];
  let current: RawSeries | null = null;
  for (const row of rows) {
    const tagValues = row.slice(0, tagCount).map((value) => (value === null ? '' : String(value)));
    if (current === null || tagValues.some((value, index) => value !== current?.tagValues[index])) {
      current = { tagValues, rows: [] };
      groups.push(current);
    }
    current.rows.push(row.slice(tagCount));
  }
  return groups;
}

/**
 * Turns a SELECT's SQL rows into InfluxDB series: one per tag set, time first (ns), gaps of
 * GROUP BY time() filled, per-series LIMIT/OFFSET, then SLIMIT/SOFFSET over the series.
 */
export function shapeSelect(plan: SelectPlan, result: ColumnarResult, nowNanos: bigint): Series[] {
  // The tag columns come first, so each group has a value for every tag key.
  assert.ok(result.data.length >= plan.tagKeys.length, 'a column for each tag key');
  const groups = groupByTags(rowsOf(result), plan.tagKeys.length);
  const shaped: Series[] = [];
  const bucketRange = plan.mode === 'bucketed' ? bucketBounds(plan, groups, nowNanos) : null;
  for (const group of groups) {
    let values = valuesOf(plan, group.rows);
    if (bucketRange !== null) values = fillBuckets(plan, values, bucketRange);
    if (plan.mode === 'bucketed' && plan.descending) values.reverse();
    if (values.length === 0) continue;
    const limited = plan.limitInSql ? values : sliceLimit(values, plan.limit, plan.offset);
    if (limited.length === 0) continue;
    shaped.push({
      name: plan.measurement,
      tags: plan.tagKeys.length === 0 ? null : Object.fromEntries(plan.tagKeys.map((key, index) => [key, group.tagValues[index] as string])),
      columns: ['time', ...plan.columns.map((column) => column.name)],
      values: limited,
      timeColumn: true,
    });
  }
  // Under ORDER BY time DESC, InfluxDB lists the series in reverse order too.
  if (plan.descending) shaped.reverse();
  return [...sliceLimit(shaped, plan.seriesLimit, plan.seriesOffset)];
}

/** Rows without tag columns -> [time ns, ...values]; aggregate rows over no point are dropped. */
function valuesOf(plan: SelectPlan, rows: readonly Cell[][]): Cell[][] {
  const values: Cell[][] = [];
  // Without a lower time bound, InfluxDB stamps an aggregate over all time with the epoch.
  const rangeStart = plan.timeRange.lowerNanos ?? EPOCH_NANOS;
  for (const row of rows) {
    if (plan.hasRowCount && Number(row[row.length - 1]) === 0) continue;
    const cells = plan.hasRowCount ? row.slice(0, -1) : row;
    // With a time column, it comes first in each row.
    if (plan.hasTime) values.push([toNanos(cells[0] as Cell), ...cells.slice(1)]);
    else values.push([rangeStart, ...cells]);
  }
  return values;
}

interface BucketRange {
  readonly firstNanos: bigint;
  readonly lastNanos: bigint;
  readonly intervalNanos: bigint;
  readonly next: (bucketNanos: bigint) => bigint;
}

/**
 * The buckets fill() produces: from the WHERE lower bound (else the first bucket with data) to
 * the upper bound (else now() when a lower bound is given, as InfluxDB does; else the last
 * bucket with data). Bounded by GROUP_BY_BUCKETS_MAX, like InfluxDB's max-select-buckets.
 */
function bucketBounds(plan: SelectPlan, groups: readonly RawSeries[], nowNanos: bigint): BucketRange | null {
  const groupByTime = plan.groupByTime;
  if (groupByTime === null || plan.fill.kind === 'none') return null;
  const interval = groupByTime.intervalNanos;
  const bucketOf = plan.bucketOf;
  // Bucketed rows hold their bucket's time first.
  const dataTimes = groups.flatMap((group) => group.rows.map((row) => toNanos(row[0] as Cell)));
  if (dataTimes.length === 0) return null;
  const dataFirst = dataTimes.reduce((left, right) => (right < left ? right : left));
  const dataLast = dataTimes.reduce((left, right) => (right > left ? right : left));
  const { lowerNanos, upperNanos } = plan.timeRange;
  const firstNanos = lowerNanos === null ? dataFirst : bucketOf(lowerNanos);
  const lastNanos = upperNanos !== null ? bucketOf(upperNanos) : lowerNanos !== null ? bucketOf(nowNanos) : dataLast;
  const bucketCount = lastNanos < firstNanos ? 0n : (lastNanos - firstNanos) / interval + 1n;
  if (bucketCount > BigInt(GROUP_BY_BUCKETS_MAX)) {
    throw new StatementFailure(`max-select-buckets limit exceeded: (${bucketCount.toString()}/${String(GROUP_BY_BUCKETS_MAX)})`);
  }
  // Under tz() a bucket may be an hour shorter or longer (DST): the next one starts where the
  // window of a time half an interval past the nominal end begins.
  const next = plan.timeZone === null ? (time: bigint): bigint => time + interval : (time: bigint): bigint => bucketOf(time + interval + interval / 2n);
  return { firstNanos, lastNanos, intervalNanos: interval, next };
}

/** One row per bucket of the range; buckets without data are filled as `plan.fill` says. */
function fillBuckets(plan: SelectPlan, values: readonly Cell[][], range: BucketRange): Cell[][] {
  const byTime = new Map<bigint, Cell[]>();
  for (const row of values) byTime.set(row[0] as bigint, row);
  const filled: Cell[][] = [];
  const missing: number[] = [];
  for (let time = range.firstNanos; time <= range.lastNanos; time = range.next(time)) {
    const present = byTime.get(time);
    if (present !== undefined) {
      filled.push(present);
      continue;
    }
    missing.push(filled.length);
    filled.push([time, ...plan.columns.map((column, index) => missingValue(plan.fill, column.isCount, filled[filled.length - 1]?.[index + 1] ?? null))]);
  }
  if (plan.fill.kind === 'linear') interpolate(filled, missing, plan.columns.length);
  return filled;
}

function missingValue(fill: FillOption, isCount: boolean, previous: Cell): Cell {
  switch (fill.kind) {
    case 'value':
      return fill.value;
    case 'previous':
      return previous;
    case 'null':
      return isCount ? 0 : null;
    default:
      return null;
  }
}

/** fill(linear): a missing bucket between two numeric values gets the straight line between them. */
function interpolate(rows: Cell[][], missing: readonly number[], columnCount: number): void {
  const isMissing = new Set(missing);
  for (let column = 1; column <= columnCount; column++) {
    for (const index of missing) {
      let before = index - 1;
      while (before >= 0 && isMissing.has(before)) before -= 1;
      let after = index + 1;
      while (after < rows.length && isMissing.has(after)) after += 1;
      const left = rows[before]?.[column];
      const right = rows[after]?.[column];
      const row = rows[index];
      if (row === undefined || typeof left !== 'number' || typeof right !== 'number') continue;
      row[column] = left + ((right - left) * (index - before)) / (after - before);
    }
  }
}
