import { TIME_COLUMN } from '@arc/columnar';
import type { Expr, SelectField, SelectStatement } from './ast.js';
import { derivedName, uniqueNames } from './select-planner.js';
import { sliceLimit, type Cell, type Series } from './series.js';
import { StatementFailure } from './sql-text.js';
import { extractTimeRange } from './where-translator.js';

/**
 * InfluxDB's transformations: functions over the points of a series (raw points, or the buckets
 * of GROUP BY time() after fill()) that emit a new series. They run in JS over the shaped series:
 * fill() happens there too, and InfluxDB transforms the filled buckets (fill(0) makes the
 * difference to a gap visible, fill(null) skips it).
 */
export const TRANSFORM_FUNCTIONS: ReadonlySet<string> = new Set([
  'derivative',
  'non_negative_derivative',
  'difference',
  'non_negative_difference',
  'moving_average',
  'cumulative_sum',
  'elapsed',
]);

/**
 * InfluxDB reads one interval more before the WHERE lower bound for these under GROUP BY time(),
 * so the first bucket in range has a predecessor (cumulative_sum is not extended).
 */
const EXTENDING_FUNCTIONS: ReadonlySet<string> = new Set(['derivative', 'non_negative_derivative', 'difference', 'non_negative_difference', 'moving_average', 'elapsed']);

const NANOS_PER_SECOND = 1_000_000_000n;

type CallExpr = Expr & { kind: 'call' };

/** One transformation: which inner column it reads and how. */
interface TransformSpec {
  readonly call: CallExpr;
  readonly input: number;
  /** derivative unit or elapsed unit (ns); moving_average window. */
  readonly parameter: bigint;
}

/** An output column: an expression whose `call` leaves are transformations or plain inner columns. */
type OutputExpr =
  | { readonly kind: 'transform'; readonly spec: TransformSpec }
  | { readonly kind: 'column'; readonly input: number }
  | { readonly kind: 'number'; readonly value: number }
  | { readonly kind: 'negate'; readonly operand: OutputExpr }
  | { readonly kind: 'arithmetic'; readonly operator: string; readonly left: OutputExpr; readonly right: OutputExpr };

/** A SELECT with transformations, split into the statement Arc plans as SQL and the JS step after it. */
export interface TransformPlan {
  /** Fields: each transformation's argument, and each field without one, in order. */
  readonly inner: SelectStatement;
  readonly outputs: readonly { readonly name: string; readonly expr: OutputExpr }[];
  readonly statement: SelectStatement;
}

function containsTransform(expr: Expr): boolean {
  if (expr.kind === 'call') return TRANSFORM_FUNCTIONS.has(expr.name) || expr.args.some(containsTransform);
  if (expr.kind === 'binary') return containsTransform(expr.left) || containsTransform(expr.right);
  if (expr.kind === 'unary') return containsTransform(expr.operand);
  return false;
}

function isTime(expr: Expr): boolean {
  return expr.kind === 'identifier' && expr.name.toLowerCase() === TIME_COLUMN;
}

function durationArgument(call: CallExpr, index: number, fallback: bigint): bigint {
  const argument = call.args[index];
  if (argument === undefined) return fallback;
  if (argument.kind !== 'duration') throw new StatementFailure(`second argument to ${call.name} must be a duration, got ${argument.kind}`);
  if (argument.nanos <= 0n) throw new StatementFailure(`duration argument must be positive, got ${argument.text}`);
  return argument.nanos;
}

/** Checks a transformation's arguments as InfluxDB does; returns its numeric parameter. */
function transformParameter(call: CallExpr, statement: SelectStatement): bigint {
  const argument = call.args[0];
  const grouped = statement.groupByTime !== null;
  if (argument === undefined) throw new StatementFailure(`invalid number of arguments for ${call.name}, expected at least 1, got 0`);
  if (grouped && argument.kind !== 'call') throw new StatementFailure(`aggregate function required inside the call to ${call.name}`);
  if (!grouped && argument.kind === 'call') throw new StatementFailure(`${call.name} aggregate requires a GROUP BY interval`);
  if (argument.kind !== 'call' && argument.kind !== 'identifier') throw new StatementFailure(`expected field argument in ${call.name}()`);
  switch (call.name) {
    case 'derivative':
    case 'non_negative_derivative':
      if (call.args.length > 2) throw new StatementFailure(`invalid number of arguments for ${call.name}, expected at least 1 but no more than 2, got ${String(call.args.length)}`);
      // Under GROUP BY time() the unit defaults to the interval, else to one second.
      return durationArgument(call, 1, statement.groupByTime?.intervalNanos ?? NANOS_PER_SECOND);
    case 'elapsed':
      if (call.args.length > 2) throw new StatementFailure(`invalid number of arguments for elapsed, expected at least 1 but no more than 2, got ${String(call.args.length)}`);
      return durationArgument(call, 1, 1n);
    case 'moving_average': {
      const window = call.args[1];
      if (call.args.length !== 2) throw new StatementFailure(`invalid number of arguments for moving_average, expected 2, got ${String(call.args.length)}`);
      if (window?.kind !== 'number' || !window.integer) throw new StatementFailure('second argument for moving_average must be an integer');
      if (window.value <= 1) throw new StatementFailure(`moving_average window must be greater than 1, got ${window.text}`);
      return BigInt(window.text);
    }
    default:
      if (call.args.length !== 1) throw new StatementFailure(`invalid number of arguments for ${call.name}, expected 1, got ${String(call.args.length)}`);
      return 0n;
  }
}

/**
 * The time bound of `where` on the side the points are read from moved one interval out
 * (`time >= X` becomes `time >= X - interval`; the upper bound under ORDER BY time DESC), as
 * InfluxDB reads one more interval for derivative and its kin.
 */
function extendBound(where: Expr | null, interval: bigint, descending: boolean): Expr | null {
  if (where === null) return null;
  const moved = (bound: Expr): Expr => ({
    kind: 'binary',
    operator: descending ? '+' : '-',
    left: bound,
    right: { kind: 'duration', nanos: interval, text: `${interval.toString()}ns` },
    offset: 0,
  });
  const lower = (operator: string): boolean => operator === '>' || operator === '>=';
  const upper = (operator: string): boolean => operator === '<' || operator === '<=';
  const visit = (node: Expr): Expr => {
    if (node.kind !== 'binary') return node;
    if (node.operator === 'AND') return { ...node, left: visit(node.left), right: visit(node.right) };
    const timeLeft = descending ? upper(node.operator) : lower(node.operator);
    const timeRight = descending ? lower(node.operator) : upper(node.operator);
    if (isTime(node.left) && timeLeft) return { ...node, right: moved(node.right) };
    if (isTime(node.right) && timeRight) return { ...node, left: moved(node.left) };
    return node;
  };
  return visit(where);
}

/** Splits a SELECT with transformations; null when it has none (planned as before). */
export function planTransforms(statement: SelectStatement): TransformPlan | null {
  if (!statement.fields.some((field) => containsTransform(field.expr))) return null;
  const innerFields: SelectField[] = [];
  const outputs: { name: string; expr: OutputExpr }[] = [];
  const transformNames: string[] = [];
  const toOutput = (expr: Expr): OutputExpr => {
    if (expr.kind === 'call' && TRANSFORM_FUNCTIONS.has(expr.name)) {
      const parameter = transformParameter(expr, statement);
      const argument = expr.args[0];
      if (argument === undefined || containsTransform(argument)) throw new StatementFailure(`${expr.name}() cannot take another transformation`);
      const star = argument.kind === 'star' || (argument.kind === 'call' && argument.args[0]?.kind === 'star');
      if (star) throw new StatementFailure(`${expr.name}() over * is not supported (name the field)`);
      transformNames.push(expr.name);
      innerFields.push({ expr: argument, alias: null });
      return { kind: 'transform', spec: { call: expr, input: innerFields.length - 1, parameter } };
    }
    if (expr.kind === 'binary' && ['+', '-', '*', '/', '%'].includes(expr.operator)) {
      return { kind: 'arithmetic', operator: expr.operator, left: toOutput(expr.left), right: toOutput(expr.right) };
    }
    if (expr.kind === 'unary') return { kind: 'negate', operand: toOutput(expr.operand) };
    if (expr.kind === 'number') return { kind: 'number', value: expr.value };
    innerFields.push({ expr, alias: null });
    return { kind: 'column', input: innerFields.length - 1 };
  };
  for (const field of statement.fields) {
    if (isTime(field.expr)) continue;
    if (field.expr.kind === 'star') throw new StatementFailure('mixing aggregate and non-aggregate queries is not supported');
    outputs.push({ name: field.alias ?? derivedName(field.expr), expr: toOutput(field.expr) });
  }
  const interval = statement.groupByTime?.intervalNanos ?? null;
  const readsEarlier = transformNames.some((name) => EXTENDING_FUNCTIONS.has(name));
  const where = readsEarlier && interval !== null ? extendBound(statement.where, interval, statement.descending) : statement.where;
  // LIMIT, OFFSET, SLIMIT, SOFFSET and ORDER BY DESC apply to the transformed series, so the inner statement has none.
  const inner: SelectStatement = { ...statement, fields: innerFields, where, limit: null, offset: 0, descending: false, seriesLimit: null, seriesOffset: 0 };
  return { inner, outputs: uniqueNames(outputs), statement };
}

interface Point {
  readonly time: bigint;
  readonly value: number;
  /** The series row the point comes from (a transformation's output lands on its row). */
  readonly row: number;
}

/** The non-NULL numeric points of one inner column of a series (rows: [time ns, ...cells]). */
function pointsOf(values: readonly (readonly Cell[])[], input: number): Point[] {
  const points: Point[] = [];
  values.forEach((row, index) => {
    const cell = row[input + 1];
    if (cell === null || cell === undefined) return;
    if (typeof cell === 'string' || typeof cell === 'boolean') throw new StatementFailure('transformations take numeric values');
    points.push({ time: row[0] as bigint, value: Number(cell), row: index });
  });
  return points;
}

/**
 * One transformation over a series' points, following InfluxDB 1.x's reducers. Under ORDER BY
 * time DESC, InfluxDB feeds them the points newest first: a difference is then the older value
 * minus the newer, and elapsed() is negative.
 */
function transform(spec: TransformSpec, ascendingPoints: readonly Point[], descending: boolean): Point[] {
  const points = descending ? [...ascendingPoints].reverse() : ascendingPoints;
  const out: Point[] = [];
  const { name } = spec.call;
  if (name === 'cumulative_sum') {
    let sum = 0;
    for (const point of points) out.push({ ...point, value: (sum += point.value) });
    return out;
  }
  if (name === 'moving_average') return movingAverage(points, Number(spec.parameter));
  for (let index = 1; index < points.length; index++) {
    const previous = points[index - 1] as Point;
    const current = points[index] as Point;
    const elapsed = current.time - previous.time;
    if (elapsed === 0n) continue;
    const span = descending ? -elapsed : elapsed;
    const difference = current.value - previous.value;
    switch (name) {
      case 'derivative':
      case 'non_negative_derivative':
        if (name === 'non_negative_derivative' && difference < 0) continue;
        out.push({ ...current, value: difference / (Number(span) / Number(spec.parameter)) });
        break;
      case 'difference':
      case 'non_negative_difference':
        if (name === 'non_negative_difference' && difference < 0) continue;
        out.push({ ...current, value: difference });
        break;
      default:
        out.push({ ...current, value: Number(elapsed / spec.parameter) });
    }
  }
  return out;
}

/** InfluxDB's running window: the sum drops the oldest value and adds the newest (same rounding). */
function movingAverage(points: readonly Point[], size: number): Point[] {
  const window: number[] = [];
  const out: Point[] = [];
  let sum = 0;
  let position = 0;
  for (const point of points) {
    if (window.length < size) window.push(point.value);
    else {
      sum -= window[position] as number;
      window[position] = point.value;
    }
    sum += point.value;
    position = (position + 1) % size;
    if (window.length === size) out.push({ ...point, value: sum / size });
  }
  return out;
}

/** Values of the transformations by series row (undefined where one emitted nothing). */
type Transformed = ReadonlyMap<TransformSpec, readonly (number | undefined)[]>;

/** `row` is a row of a series with a time column: its time first (Series), then a cell per field. */
function evaluate(expr: OutputExpr, row: readonly Cell[], transformed: Transformed, index: number): Cell {
  switch (expr.kind) {
    case 'transform':
      return transformed.get(expr.spec)?.[index] ?? null;
    case 'column':
      // Rows are [time, ...the inner statement's fields] and `input` indexes those fields.
      return row[expr.input + 1] as Cell;
    case 'number':
      return expr.value;
    case 'negate': {
      const value = evaluate(expr.operand, row, transformed, index);
      return typeof value === 'number' ? -value : null;
    }
    case 'arithmetic': {
      const left = evaluate(expr.left, row, transformed, index);
      const right = evaluate(expr.right, row, transformed, index);
      return typeof left === 'number' && typeof right === 'number' ? arithmetic(expr.operator, left, right) : null;
    }
  }
}

function arithmetic(operator: string, left: number, right: number): number | null {
  switch (operator) {
    case '+':
      return left + right;
    case '-':
      return left - right;
    case '*':
      return left * right;
    case '/':
      return right === 0 ? 0 : left / right;
    default:
      return right === 0 ? 0 : left % right;
  }
}

function specsOf(expr: OutputExpr, into: TransformSpec[]): TransformSpec[] {
  if (expr.kind === 'transform') into.push(expr.spec);
  if (expr.kind === 'negate') specsOf(expr.operand, into);
  if (expr.kind === 'arithmetic') {
    specsOf(expr.left, into);
    specsOf(expr.right, into);
  }
  return into;
}

function hasColumn(expr: OutputExpr): boolean {
  if (expr.kind === 'column') return true;
  if (expr.kind === 'negate') return hasColumn(expr.operand);
  if (expr.kind === 'arithmetic') return hasColumn(expr.left) || hasColumn(expr.right);
  return false;
}

/**
 * Rows of one transformed series: the rows (in time order) where some output has a value (a
 * transformation emitted a point there, or a plain column has the row).
 */
function transformValues(plan: TransformPlan, values: readonly (readonly Cell[])[]): Cell[][] {
  const transformed = new Map<TransformSpec, (number | undefined)[]>();
  let everyRow = false;
  for (const output of plan.outputs) {
    for (const spec of specsOf(output.expr, [])) {
      const byRow = new Array<number | undefined>(values.length);
      for (const point of transform(spec, pointsOf(values, spec.input), plan.statement.descending)) byRow[point.row] = point.value;
      transformed.set(spec, byRow);
    }
    everyRow ||= hasColumn(output.expr);
  }
  const rows: Cell[][] = [];
  const outputsByRow = [...transformed.values()];
  values.forEach((row, index) => {
    if (!everyRow && !outputsByRow.some((byRow) => byRow[index] !== undefined)) return;
    rows.push([row[0] as Cell, ...plan.outputs.map((output) => evaluate(output.expr, row, transformed, index))]);
  });
  return rows;
}

/**
 * Whether a row's bucket is one the answer shows: not the extra one read beyond the WHERE bound
 * (it only feeds the transformations). Null when nothing was read beyond it.
 */
function shownBucket(plan: TransformPlan, nowNanos: bigint, bucketOf: (nanos: bigint) => bigint): ((time: bigint) => boolean) | null {
  const groupByTime = plan.statement.groupByTime;
  if (groupByTime === null || plan.inner.where === plan.statement.where) return null;
  const range = extractTimeRange(plan.statement.where, nowNanos);
  const bound = plan.statement.descending ? range.upperNanos : range.lowerNanos;
  if (bound === null) return null;
  const bucket = bucketOf(bound);
  return plan.statement.descending ? (time) => time <= bucket : (time) => time >= bucket;
}

/** Applies the transformations to the inner statement's series, then ORDER BY DESC and LIMIT/OFFSET. */
export function applyTransforms(plan: TransformPlan, series: readonly Series[], nowNanos: bigint, bucketOf: (nanos: bigint) => bigint): Series[] {
  const out: Series[] = [];
  const shown = shownBucket(plan, nowNanos, bucketOf);
  for (const one of series) {
    let values = transformValues(plan, one.values);
    if (shown !== null) values = values.filter((row) => shown(row[0] as bigint));
    if (plan.statement.descending) values = values.reverse();
    const limited = sliceLimit(values, plan.statement.limit, plan.statement.offset);
    if (limited.length === 0) continue;
    out.push({ ...one, columns: ['time', ...plan.outputs.map((output) => output.name)], values: limited });
  }
  // Newest first, InfluxDB also lists the series in reverse order.
  if (plan.statement.descending) out.reverse();
  return [...sliceLimit(out, plan.statement.seriesLimit, plan.statement.seriesOffset)];
}
