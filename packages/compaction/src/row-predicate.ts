import { quoteLiteral } from '@arc/columnar';
import { REMOVE_PREDICATE_BYTES_MAX } from './limits.js';
import { childNodes, isNode, parseTreeOf, type ParseNode as Node } from './parse-tree.js';

/**
 * The remove predicate of a row rewrite (deletes, retention's straddling files, a continuous
 * query's window): a SQL expression over one row's columns; the rows for which it is TRUE are
 * dropped, the rows for which it is FALSE or NULL kept (`(p) IS NOT TRUE`), so a delete on a tag
 * never drops rows where the tag is NULL.
 *
 * The text is spliced into the merge's SQL, so it is checked first with DuckDB's own parser, not
 * a regex: it is parsed bare as the WHERE clause of a probe SELECT, and the tree must be that one
 * SELECT of the probe table whose WHERE clause holds only the expression classes listed here. A
 * subquery, a table or table function, a second statement, a window or a parameter are refused
 * before any file is read. Parsed bare, a text that closes the parenthesis the merge puts around
 * it (`1=1) OR (1=1`) does not parse; so a text that passes is one whole expression, and the
 * same expression in parentheses (a line comment at its end is closed by the newline there).
 */

/** The table the probe SELECT reads: never created; the probe is parsed, never run. */
const PROBE_TABLE = 'arc_rewrite_rows';

/** Expression classes a predicate may use: plain scalar expressions over the row. */
const ALLOWED_CLASSES: ReadonlySet<string> = new Set(['CONSTANT', 'COLUMN_REF', 'COMPARISON', 'CONJUNCTION', 'OPERATOR', 'FUNCTION', 'CASE', 'CAST', 'BETWEEN', 'COLLATE']);

/**
 * Functions refused in a predicate: ones that read the server's environment or settings, and
 * volatile ones, whose answer would differ between a dry run and the run (and between retries).
 */
export const REFUSED_FUNCTIONS: ReadonlySet<string> = new Set(['getenv', 'getvariable', 'current_setting', 'random', 'setseed', 'uuid', 'gen_random_uuid', 'uuidv4', 'uuidv7', 'nextval', 'currval', 'now', 'current_timestamp', 'get_current_timestamp', 'today']);

/** The filter a rewrite's SELECT carries: keeps the rows for which the predicate is not TRUE. */
export function keepRowsSql(removeWhere: string): string {
  return `WHERE (${removeWhere}\n) IS NOT TRUE`;
}

/** The filter of a dry run's count: the rows the predicate would remove (TRUE only, as keepRowsSql keeps the rest). */
export function removedRowsFilterSql(removeWhere: string): string {
  return `WHERE (${removeWhere}\n) IS TRUE`;
}

/** SQL whose one row, one column (`tree`) is DuckDB's JSON parse tree of the probe SELECT of the bare predicate. */
export function predicateProbeSql(removeWhere: string): string {
  return `SELECT json_serialize_sql(${quoteLiteral(`SELECT * FROM ${PROBE_TABLE} WHERE ${removeWhere}`)})::VARCHAR AS tree`;
}


/** Why the expression tree is refused, or null when every node in it is a plain scalar expression. */
function refusedExpression(node: Node): string | null {
  if (typeof node['type'] === 'string' && ('from_table' in node || 'table_name' in node || 'function' in node)) return 'it reads a table or a subquery';
  const expressionClass = node['class'];
  if (typeof expressionClass === 'string' && !ALLOWED_CLASSES.has(expressionClass)) return `it uses ${expressionClass.toLowerCase()} expressions (only plain expressions over the row's columns are allowed)`;
  const name = node['function_name'];
  if (expressionClass === 'FUNCTION' && typeof name === 'string' && REFUSED_FUNCTIONS.has(name.toLowerCase())) return `it calls ${name}() (reads the server's state or changes between runs)`;
  for (const child of childNodes(node)) {
    const reason = refusedExpression(child);
    if (reason !== null) return reason;
  }
  return null;
}

/** Why the probe's one statement is not the probe SELECT with a WHERE clause, or null. */
function refusedStatement(tree: Node): string | null {
  const statements = tree['statements'];
  if (!Array.isArray(statements) || statements.length !== 1) return 'it is not one expression (several statements)';
  const statement: unknown = statements[0];
  const select = isNode(statement) ? statement['node'] : null;
  if (!isNode(select) || select['type'] !== 'SELECT_NODE') return 'it is not one expression';
  const from = select['from_table'];
  if (!isNode(from) || from['type'] !== 'BASE_TABLE' || from['table_name'] !== PROBE_TABLE) return 'it is not one expression (it changes the table read)';
  const cteMap = select['cte_map'];
  const ctes = isNode(cteMap) && Array.isArray(cteMap['map']) ? cteMap['map'].length : 0;
  const modifiers = Array.isArray(select['modifiers']) ? select['modifiers'].length : 0;
  const grouped = [select['group_expressions'], select['group_sets']].some((list) => Array.isArray(list) && list.length > 0);
  if (ctes > 0 || modifiers > 0 || grouped || select['having'] !== null || select['qualify'] !== null || select['sample'] !== null) return 'it is not one expression (it adds clauses)';
  const where = select['where_clause'];
  if (!isNode(where)) return 'it is not one expression';
  return refusedExpression(where);
}

/**
 * Null when the predicate may be spliced into a rewrite, else a message naming what is wrong.
 * `treeJson` is the answer of predicateProbeSql run by DuckDB.
 */
export function predicateRefusal(treeJson: string): string | null {
  const tree = parseTreeOf(treeJson);
  if (tree === null) return 'DuckDB gave no parse tree';
  if (tree['error'] === true) {
    const message = typeof tree['error_message'] === 'string' ? tree['error_message'] : 'not a plain expression';
    return tree['error_type'] === 'parser' ? `it does not parse: ${message}` : `it is not one expression: ${message}`;
  }
  return refusedStatement(tree);
}

/** A refusal for the text alone (empty, too long), before DuckDB parses it; null when it may be parsed. */
export function predicateTextRefusal(removeWhere: string): string | null {
  if (removeWhere.trim() === '') return 'it is empty';
  if (Buffer.byteLength(removeWhere) > REMOVE_PREDICATE_BYTES_MAX) return `it is longer than ${String(REMOVE_PREDICATE_BYTES_MAX)} bytes`;
  return null;
}
