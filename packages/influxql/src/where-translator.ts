import { quoteIdentifier, quoteLiteral, TIME_COLUMN } from '@arc/columnar';
import type { ComparisonOperator, Expr } from './ast.js';
import type { MeasurementSchema } from './schema.js';
import { StatementFailure } from './sql-text.js';
import { NANOS_PER_MICRO, floorDiv, parseTimeLiteral } from './time-values.js';

/** The time span a WHERE clause's top-level AND restricts to, both ends inclusive, in ns. */
export interface TimeRange {
  readonly lowerNanos: bigint | null;
  readonly upperNanos: bigint | null;
}

export interface ConditionContext {
  readonly schema: MeasurementSchema;
  /** now() for the whole request, so every statement sees the same instant. */
  readonly nowNanos: bigint;
}

const SQL_COMPARISON: Readonly<Record<Exclude<ComparisonOperator, '=~' | '!~'>, string>> = {
  '=': '=',
  '!=': '<>',
  '<>': '<>',
  '<': '<',
  '<=': '<=',
  '>': '>',
  '>=': '>=',
};

/** `a < b` read the other way round (`b > a`), to put the column on the left. */
const MIRRORED: Readonly<Record<string, ComparisonOperator>> = { '=': '=', '!=': '!=', '<>': '<>', '<': '>', '<=': '>=', '>': '<', '>=': '<=' };

function isTime(expr: Expr): boolean {
  return expr.kind === 'identifier' && expr.name.toLowerCase() === TIME_COLUMN;
}

function isComparison(operator: string): operator is ComparisonOperator {
  return operator in MIRRORED || operator === '=~' || operator === '!~';
}

/** Evaluates a time expression (`now() - 1h`, `'2024-01-01T00:00:00Z'`, `1700000000s`, ns integers). */
export function evaluateTime(expr: Expr, nowNanos: bigint): bigint {
  switch (expr.kind) {
    case 'now':
      return nowNanos;
    case 'duration':
      return expr.nanos;
    case 'number':
      return expr.integer ? BigInt(expr.text) : BigInt(Math.round(expr.value));
    case 'string': {
      const nanos = parseTimeLiteral(expr.value);
      if (nanos === null) throw new StatementFailure(`invalid time literal '${expr.value}' (expected RFC 3339, e.g. 2024-01-01T00:00:00Z)`);
      return nanos;
    }
    case 'unary':
      return -evaluateTime(expr.operand, nowNanos);
    case 'binary':
      if (expr.operator === '+') return evaluateTime(expr.left, nowNanos) + evaluateTime(expr.right, nowNanos);
      if (expr.operator === '-') return evaluateTime(expr.left, nowNanos) - evaluateTime(expr.right, nowNanos);
      break;
    default:
      break;
  }
  throw new StatementFailure(`invalid time expression: ${describeExpr(expr)} (use now(), durations, RFC 3339 strings or epoch integers)`);
}

/** A short text of an expression for error messages. */
export function describeExpr(expr: Expr): string {
  switch (expr.kind) {
    case 'identifier':
      return expr.name;
    case 'string':
      return `'${expr.value}'`;
    case 'number':
      return expr.text;
    case 'duration':
      return expr.text;
    case 'call':
      return `${expr.name}()`;
    case 'binary':
      return `${describeExpr(expr.left)} ${expr.operator} ${describeExpr(expr.right)}`;
    default:
      return expr.kind;
  }
}

/**
 * `time op X` over Arc's microsecond column, exact for any nanosecond X: `time > X` holds for a
 * stored µs value t when t * 1000 > X, i.e. t > floor(X / 1000); the other operators likewise.
 * The bound is a constant `make_timestamp(µs)`, so the engine can prune hour directories by it.
 */
function timeCondition(operator: ComparisonOperator, nanos: bigint): string {
  const floorMicros = floorDiv(nanos, NANOS_PER_MICRO);
  const exact = floorMicros * NANOS_PER_MICRO === nanos;
  const ceilMicros = exact ? floorMicros : floorMicros + 1n;
  const column = quoteIdentifier(TIME_COLUMN);
  const at = (micros: bigint): string => `make_timestamp(${micros.toString()}::BIGINT)`;
  switch (operator) {
    case '>':
      return `${column} > ${at(floorMicros)}`;
    case '>=':
      return `${column} >= ${at(ceilMicros)}`;
    case '<':
      return `${column} < ${at(ceilMicros)}`;
    case '<=':
      return `${column} <= ${at(floorMicros)}`;
    case '=':
      return exact ? `${column} = ${at(floorMicros)}` : 'FALSE';
    case '!=':
    case '<>':
      return exact ? `${column} <> ${at(floorMicros)}` : 'TRUE';
    default:
      throw new StatementFailure(`time cannot be compared with ${operator}`);
  }
}

/** Translates a WHERE expression to a DuckDB condition over the measurement's columns. */
export function translateCondition(expr: Expr, context: ConditionContext): string {
  if (expr.kind === 'binary' && (expr.operator === 'AND' || expr.operator === 'OR')) {
    return `(${translateCondition(expr.left, context)} ${expr.operator} ${translateCondition(expr.right, context)})`;
  }
  if (expr.kind === 'binary' && isComparison(expr.operator)) return translateComparison(expr.operator, expr.left, expr.right, context);
  if (expr.kind === 'boolean') return expr.value ? 'TRUE' : 'FALSE';
  if (expr.kind === 'identifier' && context.schema.fields.get(expr.name) === 'boolean') return quoteIdentifier(expr.name);
  throw new StatementFailure(`invalid condition: ${describeExpr(expr)} (expected a comparison such as host = 'a' or time > now() - 1h)`);
}

function translateComparison(operator: ComparisonOperator, left: Expr, right: Expr, context: ConditionContext): string {
  if (isTime(left) || isTime(right)) {
    if (operator === '=~' || operator === '!~') throw new StatementFailure('time cannot be matched with a regular expression');
    if (isTime(left) && isTime(right)) throw new StatementFailure('time compared with time');
    return isTime(left) ? timeCondition(operator, evaluateTime(right, context.nowNanos)) : timeCondition(MIRRORED[operator] ?? operator, evaluateTime(left, context.nowNanos));
  }
  if (operator === '=~' || operator === '!~') {
    if (right.kind !== 'regex' || left.kind !== 'identifier') throw new StatementFailure(`${operator} takes a tag or field on the left and /regex/ on the right`);
    const matched = `regexp_matches(${stringOperand(left.name, context)}, ${quoteLiteral(right.pattern)})`;
    return operator === '=~' ? matched : `NOT ${matched}`;
  }
  if (left.kind !== 'identifier' && right.kind === 'identifier') return translateComparison(MIRRORED[operator] ?? operator, right, left, context);
  const sqlOperator = SQL_COMPARISON[operator];
  if (left.kind === 'identifier' && right.kind === 'string') return stringComparison(left.name, sqlOperator, right.value, context);
  // Values of different types never compare true in InfluxDB (a tag with a number, a float with
  // a boolean): no point matches, where DuckDB would fail to cast.
  const leftType = valueType(left, context);
  const rightType = valueType(right, context);
  if (leftType !== null && rightType !== null && leftType !== rightType) return 'FALSE';
  return `${operand(left, context)} ${sqlOperator} ${operand(right, context)}`;
}

/**
 * InfluxDB reads a missing tag as the empty string (`host = ''` finds points without `host`);
 * so does Arc, for columns missing in some files (NULL) and names no file has.
 */
function stringOperand(name: string, context: ConditionContext): string {
  if (context.schema.tags.includes(name)) return `coalesce(${quoteIdentifier(name)}, '')`;
  if (context.schema.fields.has(name)) return `CAST(${quoteIdentifier(name)} AS VARCHAR)`;
  return "''";
}

function stringComparison(name: string, sqlOperator: string, value: string, context: ConditionContext): string {
  const type = context.schema.fields.get(name);
  // A number or boolean never equals a string in InfluxDB: no point matches.
  if (type !== undefined && type !== 'string') return 'FALSE';
  return `${stringOperand(name, context)} ${sqlOperator} ${quoteLiteral(value)}`;
}

type ValueType = 'string' | 'number' | 'boolean';

/** The type a comparison operand has; null when unknown (a name no file has is NULL, which matches nothing anyway). */
function valueType(expr: Expr, context: ConditionContext): ValueType | null {
  switch (expr.kind) {
    case 'identifier': {
      if (context.schema.tags.includes(expr.name)) return 'string';
      const type = context.schema.fields.get(expr.name);
      if (type === undefined) return null;
      return type === 'float' || type === 'integer' ? 'number' : type;
    }
    case 'string':
      return 'string';
    case 'boolean':
      return 'boolean';
    case 'number':
    case 'unary':
    case 'binary':
      return 'number';
    default:
      return null;
  }
}

/** A value in a comparison: a column (NULL when no file has it), or a literal. */
function operand(expr: Expr, context: ConditionContext): string {
  switch (expr.kind) {
    case 'identifier':
      if (context.schema.tags.includes(expr.name) || context.schema.fields.has(expr.name)) return quoteIdentifier(expr.name);
      return 'NULL';
    case 'number':
      return expr.text;
    case 'boolean':
      return expr.value ? 'TRUE' : 'FALSE';
    case 'string':
      return quoteLiteral(expr.value);
    case 'unary':
      return `(-${operand(expr.operand, context)})`;
    case 'binary':
      if (expr.operator === '+' || expr.operator === '-' || expr.operator === '*' || expr.operator === '/' || expr.operator === '%') {
        return `(${operand(expr.left, context)} ${expr.operator} ${operand(expr.right, context)})`;
      }
      break;
    default:
      break;
  }
  throw new StatementFailure(`unsupported expression in WHERE: ${describeExpr(expr)}`);
}

/** The time bounds of the top-level AND of `expr` (InfluxDB's time range of a query). */
export function extractTimeRange(expr: Expr | null, nowNanos: bigint): TimeRange {
  let lowerNanos: bigint | null = null;
  let upperNanos: bigint | null = null;
  const visit = (node: Expr): void => {
    if (node.kind !== 'binary') return;
    if (node.operator === 'AND') {
      visit(node.left);
      visit(node.right);
      return;
    }
    if (!isTime(node.left) && !isTime(node.right)) return;
    if (!(node.operator in MIRRORED) || (isTime(node.left) && isTime(node.right))) return;
    const operator = isTime(node.left) ? node.operator : (MIRRORED[node.operator] ?? node.operator);
    const nanos = evaluateTime(isTime(node.left) ? node.right : node.left, nowNanos);
    if (operator === '>' || operator === '>=' || operator === '=') {
      const bound = operator === '>' ? nanos + 1n : nanos;
      lowerNanos = lowerNanos === null || bound > lowerNanos ? bound : lowerNanos;
    }
    if (operator === '<' || operator === '<=' || operator === '=') {
      const bound = operator === '<' ? nanos - 1n : nanos;
      upperNanos = upperNanos === null || bound < upperNanos ? bound : upperNanos;
    }
  };
  if (expr !== null) visit(expr);
  return { lowerNanos, upperNanos };
}
