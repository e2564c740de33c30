import { isNode, locationOf } from './sql-tree.js';
import type { SqlNode } from './sql-tree.js';

/**
 * Parse trees reused across SQL texts that differ only in their string literals. TSBS (and a
 * dashboard's time picker) sends the same statement again and again with another host and
 * another window: each text is new, so the parse memory by text never hits and every query paid
 * DuckDB's parse (`json_serialize_sql`, 1.3 ms of a single-host query under load). A statement's
 * *shape* is its text with the content of each plain string literal taken out; a text of a known
 * shape gets the known tree with the new literals' values put into their constants and every
 * location moved by the literals' change in length.
 *
 * Why that is the tree DuckDB would give: the scanner ends a standard string literal at the first
 * quote not doubled, whatever else it holds, so two texts of one shape have the same tokens but
 * for those literals' values. Only texts this module reads unambiguously have a shape (no
 * backslash, no `$`, no NUL, no nested block comment), only literals after a space or an
 * operator are taken out (not `E'...'`, `X'...'`, `U&'...'`), and a shape is kept only when the
 * first tree confirms it: each literal taken out is, at its own position, a VARCHAR constant of
 * exactly its text and nothing else (not an alias, a table name or half of two literals joined).
 * Everything Arc checks in the tree (tables, permissions, functions, time bounds) is checked
 * again on the new tree; only the parse is saved.
 */

/** A string literal taken out of a text: where it is (UTF-8 bytes, quotes included) and its value. */
export interface MaskedLiteral {
  readonly byteStart: number;
  readonly byteEnd: number;
  readonly value: string;
}

/** A text's shape (the map key) and its literals in text order. */
export interface MaskedSql {
  readonly shape: string;
  readonly literals: readonly MaskedLiteral[];
}

const QUOTE = 0x27;
const DOUBLE_QUOTE = 0x22;
const DASH = 0x2d;
const SLASH = 0x2f;
const STAR = 0x2a;
const NEWLINE = 0x0a;
/** Bytes that make a text's tokens depend on more than this module reads: backslash, `$`, NUL. */
const UNREAD_BYTES: ReadonlySet<number> = new Set([0x5c, 0x24, 0x00]);
/**
 * Bytes a literal taken out may follow: whitespace and operators. A letter, digit or `&` before
 * the quote makes another kind of literal (E'', B'', X'', U&'') and a quote two literals joined.
 */
const BEFORE_LITERAL: ReadonlySet<number> = new Set(Array.from(Buffer.from(' \t\n\r(,=<>[+-*/%|', 'latin1')));
/** Marks a literal's place in a shape; shapes come only from texts without NUL. */
const LITERAL_MARK = "'\u0000'";

/** The end (exclusive) of the quoted run opening at `start`, `''` / `""` doubled inside; null: unterminated. */
function quotedEnd(bytes: Buffer, start: number, quote: number): number | null {
  for (let at = start + 1; at < bytes.length; at++) {
    if (bytes[at] !== quote) continue;
    if (bytes[at + 1] === quote) {
      at++;
      continue;
    }
    return at + 1;
  }
  return null;
}

/** The end of the block comment opening at `start`; null: unterminated or nested (left to the parser). */
function blockCommentEnd(bytes: Buffer, start: number): number | null {
  const close = bytes.indexOf('*/', start + 2);
  if (close < 0) return null;
  return bytes.subarray(start + 2, close).includes('/*') ? null : close + 2;
}

/**
 * The text's shape and literals, or null when the text is not one this module reads exactly (see
 * above) or has no literal to take out.
 */
export function maskLiterals(sql: string): MaskedSql | null {
  if (!sql.isWellFormed()) return null;
  const bytes = Buffer.from(sql, 'utf8');
  for (const byte of UNREAD_BYTES) if (bytes.includes(byte)) return null;
  const parts: string[] = [];
  const literals: MaskedLiteral[] = [];
  let copiedTo = 0;
  let at = 0;
  while (at < bytes.length) {
    const byte = bytes[at];
    let end: number | null = at + 1;
    if (byte === QUOTE || byte === DOUBLE_QUOTE) end = quotedEnd(bytes, at, byte);
    else if (byte === DASH && bytes[at + 1] === DASH) end = lineEnd(bytes, at);
    else if (byte === SLASH && bytes[at + 1] === STAR) end = blockCommentEnd(bytes, at);
    if (end === null) return null;
    if (byte === QUOTE && at > 0 && BEFORE_LITERAL.has(bytes[at - 1] ?? 0)) {
      parts.push(bytes.toString('utf8', copiedTo, at));
      literals.push({ byteStart: at, byteEnd: end, value: bytes.toString('utf8', at + 1, end - 1).replaceAll("''", "'") });
      copiedTo = end;
    }
    at = end;
  }
  if (literals.length === 0) return null;
  parts.push(bytes.toString('utf8', copiedTo));
  return { shape: parts.join(LITERAL_MARK), literals };
}

function lineEnd(bytes: Buffer, start: number): number {
  const end = bytes.indexOf(NEWLINE, start);
  return end < 0 ? bytes.length : end + 1;
}

/** A VARCHAR constant's value object as DuckDB serializes it. */
interface ConstantValue {
  readonly type: { readonly id: string };
  readonly is_null: boolean;
  readonly value: unknown;
}

function constantValue(node: SqlNode): ConstantValue | null {
  if (node.class !== 'CONSTANT' || !isNode(node.value)) return null;
  const value = node.value as { readonly type?: unknown; readonly is_null?: unknown };
  if (!isNode(value.type) || typeof value.type.id !== 'string' || typeof value.is_null !== 'boolean') return null;
  return node.value as unknown as ConstantValue;
}

/** Every node of the tree (value objects included), each once. */
function nodesOf(statement: SqlNode): SqlNode[] {
  const nodes: SqlNode[] = [];
  const stack = [statement];
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    nodes.push(node);
    for (const value of Object.values(node)) {
      if (Array.isArray(value)) {
        for (const item of value) if (isNode(item)) stack.push(item);
      } else if (isNode(value)) stack.push(value);
    }
  }
  return nodes;
}

/**
 * Whether `statement` (the tree of the text `masked` was made of) confirms the shape: each
 * literal is a VARCHAR constant of exactly its value at its own position (DuckDB may copy an
 * expression: every copy must be), and no node starts inside a literal.
 */
export function confirmsShape(statement: SqlNode, masked: MaskedSql): boolean {
  const constantsAt = new Map(masked.literals.map((literal) => [literal.byteStart, 0]));
  for (const node of nodesOf(statement)) {
    const location = locationOf(node);
    if (location === null) continue;
    if (masked.literals.some((literal) => location > literal.byteStart && location < literal.byteEnd)) return false;
    const literal = masked.literals.find((candidate) => candidate.byteStart === location);
    const constant = constantValue(node);
    if (literal === undefined || constant === null) continue;
    if (constant.type.id !== 'VARCHAR' || constant.is_null || constant.value !== literal.value) return false;
    constantsAt.set(location, (constantsAt.get(location) ?? 0) + 1);
  }
  return [...constantsAt.values()].every((count) => count > 0);
}

/**
 * The tree of a text of the same shape as the one `statement` was parsed from: a copy with the
 * new literals' values in their constants and every location moved by the bytes the literals
 * before it gained or lost. `from` and `to` are the two texts' masks (same shape).
 */
export function reshapedTree(statement: SqlNode, from: MaskedSql, to: MaskedSql): SqlNode {
  const shifts = from.literals.map((literal, index) => {
    const next = to.literals[index];
    if (next === undefined) throw new Error('texts of one shape have as many literals');
    return { byteStart: literal.byteStart, gained: next.byteEnd - next.byteStart - (literal.byteEnd - literal.byteStart), value: next.value };
  });
  const valueAt = new Map(shifts.map((shift) => [shift.byteStart, shift.value]));
  const moved = (location: number): number => {
    let sum = location;
    for (const shift of shifts) if (shift.byteStart < location) sum += shift.gained;
    return sum;
  };
  const copy = (node: SqlNode): SqlNode => {
    const location = locationOf(node);
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) out[key] = copyValue(value);
    if (location === null) return out;
    out.query_location = moved(location);
    const value = valueAt.get(location);
    if (value !== undefined && constantValue(node) !== null) out.value = { ...(out.value as ConstantValue), value };
    return out;
  };
  const copyValue = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(copyValue);
    return isNode(value) ? copy(value) : value;
  };
  return copy(statement);
}
