import { ArcError, ErrorKind } from '@arc/errors';
import { HttpJsonErrorCode } from './http-json-error-codes.js';
import { JSON_PATH_CHARS_MAX } from './limits.js';

/**
 * The JSONPath subset an HTTP JSON mapping is written in: RFC 9535's segments without filters,
 * slices, unions or functions, which a mapping from records to columns does not need.
 *
 *   $               the root (for a record's paths: the record)
 *   .name  ['name'] a member (shorthand name: letter, `_` or non-ASCII, then also digits; quoted: any, with JSON escapes)
 *   [n]             an array element; negative counts from the end (-1 is the last)
 *   .*  [*]         every member value / element, in order
 *   ..name ..[n] ..* ..['name']   the same selector applied to the node and every node below it (document order)
 *
 * Semantics are RFC 9535's: a selector that does not apply (a member of an array, an index out of
 * range) selects nothing; it is never an error. A path of names and indexes only is "singular":
 * it selects at most one node (a record's time, tags and fields must be singular).
 * Compiled once (`compileJsonPath`); anything outside the subset is a 400 naming the position.
 */

export type JsonPathSelector =
  | { readonly kind: 'name'; readonly name: string }
  | { readonly kind: 'index'; readonly index: number }
  | { readonly kind: 'wildcard' };

export interface JsonPathSegment {
  /** `..`: the selector applies to the node and all its descendants. */
  readonly descendant: boolean;
  readonly selector: JsonPathSelector;
}

export interface JsonPath {
  readonly text: string;
  readonly segments: readonly JsonPathSegment[];
  /** Names and indexes only: at most one node. */
  readonly singular: boolean;
}

/** What a parse step returns: the value and where the text continues, or the refusal. */
type Parsed<T> = { readonly value: T; readonly end: number } | ArcError;

function refusal(text: string, field: string, position: number, what: string): ArcError {
  return new ArcError(ErrorKind.badRequest, HttpJsonErrorCode.badJsonPath, `${field}: JSONPath '${text}' at position ${position}: ${what}`, { field, position });
}

const NAME_FIRST = /[A-Za-z_\u0080-\uffff]/;
const NAME_CHAR = /[A-Za-z0-9_\u0080-\uffff]/;
const WHITESPACE = /[ \t\n\r]/;

/** Compiles `text`; `field` names where it came from in the request (e.g. `mapping.fields.temp`). */
export function compileJsonPath(text: string, field: string): JsonPath | ArcError {
  if (text.length > JSON_PATH_CHARS_MAX) return refusal(text.slice(0, 40), field, JSON_PATH_CHARS_MAX, `longer than ${JSON_PATH_CHARS_MAX} characters`);
  if (!text.startsWith('$')) return refusal(text, field, 0, "a path starts with '$'");
  const segments: JsonPathSegment[] = [];
  // RFC 9535 allows blank space between segments, not after the last.
  for (let at = 1; at < text.length; ) {
    const start = skipWhitespace(text, at);
    if (start === text.length) return refusal(text, field, at, 'blank space at the end');
    const segment = parseSegment(text, field, start);
    if (segment instanceof ArcError) return segment;
    segments.push(segment.value);
    at = segment.end;
  }
  const singular = segments.every((segment) => !segment.descendant && segment.selector.kind !== 'wildcard');
  return { text, segments, singular };
}

function parseSegment(text: string, field: string, at: number): Parsed<JsonPathSegment> {
  if (text.startsWith('..', at)) {
    const next = at + 2;
    const selector = text[next] === '[' ? parseBracket(text, field, next) : parseDotted(text, field, next);
    return selector instanceof ArcError ? selector : { value: { descendant: true, selector: selector.value }, end: selector.end };
  }
  if (text[at] === '.') {
    const selector = parseDotted(text, field, at + 1);
    return selector instanceof ArcError ? selector : { value: { descendant: false, selector: selector.value }, end: selector.end };
  }
  if (text[at] === '[') {
    const selector = parseBracket(text, field, at);
    return selector instanceof ArcError ? selector : { value: { descendant: false, selector: selector.value }, end: selector.end };
  }
  return refusal(text, field, at, `expected '.', '..' or '[', got '${text[at] ?? ''}'`);
}

/** After a dot: `*` or a shorthand name. */
function parseDotted(text: string, field: string, at: number): Parsed<JsonPathSelector> {
  if (text[at] === '*') return { value: { kind: 'wildcard' }, end: at + 1 };
  const first = text[at];
  if (first === undefined || !NAME_FIRST.test(first)) return refusal(text, field, at, "expected a member name or '*' (quote other names: ['name'])");
  let end = at + 1;
  while (end < text.length && NAME_CHAR.test(text[end] ?? '')) end += 1;
  return { value: { kind: 'name', name: text.slice(at, end) }, end };
}

function skipWhitespace(text: string, at: number): number {
  let end = at;
  while (end < text.length && WHITESPACE.test(text[end] ?? '')) end += 1;
  return end;
}

/** `[ selector ]` with one selector: a quoted name, an index or `*`. */
function parseBracket(text: string, field: string, open: number): Parsed<JsonPathSelector> {
  const at = skipWhitespace(text, open + 1);
  const head = text[at];
  let selector: Parsed<JsonPathSelector>;
  if (head === "'" || head === '"') selector = parseQuoted(text, field, at);
  else if (head === '*') selector = { value: { kind: 'wildcard' }, end: at + 1 };
  else if (head !== undefined && /[-0-9]/.test(head)) selector = parseIndex(text, field, at);
  else if (head === '?') return refusal(text, field, at, 'filter expressions (?...) are not supported');
  else if (head === ':') return refusal(text, field, at, 'array slices (start:end) are not supported');
  else return refusal(text, field, at, "expected a quoted name, an index or '*' inside [...]");
  if (selector instanceof ArcError) return selector;
  const close = skipWhitespace(text, selector.end);
  if (text[close] === ',') return refusal(text, field, close, 'unions (several selectors in one [...]) are not supported');
  if (text[close] === ':') return refusal(text, field, close, 'array slices (start:end) are not supported');
  if (text[close] !== ']') return refusal(text, field, close, "expected ']'");
  return { value: selector.value, end: close + 1 };
}

function parseIndex(text: string, field: string, at: number): Parsed<JsonPathSelector> {
  const match = /^-?[0-9]+/.exec(text.slice(at));
  if (match === null || !/^(0|-?[1-9][0-9]*)$/.test(match[0])) return refusal(text, field, at, 'an index is an integer without leading zeros');
  const index = Number(match[0]);
  if (!Number.isSafeInteger(index)) return refusal(text, field, at, 'the index is out of range');
  return { value: { kind: 'index', index }, end: at + match[0].length };
}

const ESCAPES: Readonly<Record<string, string>> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', '/': '/', '\\': '\\', "'": "'", '"': '"' };

/** A quoted name with RFC 9535's escapes (JSON's, plus \' inside single quotes). */
function parseQuoted(text: string, field: string, open: number): Parsed<JsonPathSelector> {
  const quote = text[open];
  let name = '';
  let at = open + 1;
  while (at < text.length) {
    const char = text[at] ?? '';
    if (char === quote) return { value: { kind: 'name', name }, end: at + 1 };
    if (char !== '\\') {
      name += char;
      at += 1;
      continue;
    }
    const escaped = text[at + 1] ?? '';
    if (escaped === 'u') {
      const hex = text.slice(at + 2, at + 6);
      if (!/^[0-9A-Fa-f]{4}$/.test(hex)) return refusal(text, field, at, 'a \\u escape has four hex digits');
      name += String.fromCharCode(Number.parseInt(hex, 16));
      at += 6;
      continue;
    }
    const replacement = ESCAPES[escaped];
    if (replacement === undefined || (replacement === "'" && quote === '"') || (replacement === '"' && quote === "'")) return refusal(text, field, at, `unknown escape '\\${escaped}'`);
    name += replacement;
    at += 2;
  }
  return refusal(text, field, open, 'the quoted name has no closing quote');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The children a selector picks of one node, appended to `out`. */
function select(selector: JsonPathSelector, node: unknown, out: unknown[]): void {
  switch (selector.kind) {
    case 'name':
      if (isObject(node) && Object.hasOwn(node, selector.name)) out.push(node[selector.name]);
      return;
    case 'index': {
      if (!Array.isArray(node)) return;
      const index = selector.index < 0 ? node.length + selector.index : selector.index;
      if (index >= 0 && index < node.length) out.push(node[index]);
      return;
    }
    case 'wildcard':
      if (Array.isArray(node)) out.push(...(node as unknown[]));
      else if (isObject(node)) out.push(...Object.values(node));
      return;
  }
}

/** The node and its descendants, in document order (a node before its children). */
function descendants(node: unknown, out: unknown[]): void {
  out.push(node);
  if (Array.isArray(node)) for (const child of node as unknown[]) descendants(child, out);
  else if (isObject(node)) for (const child of Object.values(node)) descendants(child, out);
}

/** The nodes `path` selects in `root`, in order (RFC 9535's nodelist, values only). */
export function queryJsonPath(path: JsonPath, root: unknown): unknown[] {
  let nodes: unknown[] = [root];
  for (const segment of path.segments) {
    const inputs: unknown[] = [];
    if (segment.descendant) for (const node of nodes) descendants(node, inputs);
    const next: unknown[] = [];
    for (const node of segment.descendant ? inputs : nodes) select(segment.selector, node, next);
    nodes = next;
  }
  return nodes;
}

/** The one node a singular path selects, or undefined when there is none. Walks without building lists (it runs per record). */
export function singularValue(path: JsonPath, root: unknown): unknown {
  let node = root;
  for (const { selector } of path.segments) {
    if (selector.kind === 'name') {
      if (!isObject(node) || !Object.hasOwn(node, selector.name)) return undefined;
      node = node[selector.name];
    } else if (selector.kind === 'index') {
      if (!Array.isArray(node)) return undefined;
      const index = selector.index < 0 ? node.length + selector.index : selector.index;
      if (index < 0 || index >= node.length) return undefined;
      node = node[index] as unknown;
    } else {
      return undefined;
    }
  }
  return node;
}

/** `$.a['b c'][0][*]`: the normalized text of a path of names, indexes and wildcards (null) (for discovered paths). */
export function pathText(parts: readonly (string | number | null)[]): string {
  let text = '$';
  for (const part of parts) {
    if (typeof part === 'number') text += `[${part}]`;
    else if (part === null) text += '[*]';
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(part)) text += `.${part}`;
    else text += `['${part.replace(/[\\']/g, (c) => `\\${c}`)}']`;
  }
  return text;
}
