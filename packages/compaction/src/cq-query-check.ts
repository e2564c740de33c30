import { quoteLiteral } from '@arc/columnar';
import { childNodes, isNode, parseTreeOf, type ParseNode as Node } from './parse-tree.js';
import { REFUSED_FUNCTIONS } from './row-predicate.js';

/**
 * The check of a continuous query's SQL, by DuckDB's own parser (json_serialize_sql), never a
 * regex: the query must be one SELECT (DuckDB serializes nothing else), every table it reads must
 * be the source measurement (bare, or qualified by the query's database) or a CTE it defines, and
 * it may call no table function (read_csv, read_parquet: other files) and no function that reads
 * the server's state or changes between runs (now(), random(): a window run twice must write the
 * same rows). The merge worker runs the probe on a query whose placeholders were filled.
 */


/** SQL whose one row, one column (`tree`) is DuckDB's JSON parse tree of the query. */
export function cqProbeSql(query: string): string {
  return `SELECT json_serialize_sql(${quoteLiteral(query)})::VARCHAR AS tree`;
}

/** What a query may read: the source measurement of its database. */
export interface CqSource {
  readonly database: string;
  readonly measurement: string;
}

/** The names of the CTEs defined anywhere in the tree (a CTE reference is a BASE_TABLE of that name). */
function cteNames(node: Node, names: Set<string>): Set<string> {
  const cteMap = node['cte_map'];
  if (isNode(cteMap) && Array.isArray(cteMap['map'])) {
    for (const entry of cteMap['map'] as unknown[]) if (isNode(entry) && typeof entry['key'] === 'string') names.add(entry['key'].toLowerCase());
  }
  for (const child of childNodes(node)) cteNames(child, names);
  return names;
}

function tableRefusal(node: Node, source: CqSource, ctes: ReadonlySet<string>): string | null {
  const text = (field: string): string => (typeof node[field] === 'string' ? node[field] : '');
  const table = text('table_name');
  const schema = text('schema_name');
  const catalog = text('catalog_name');
  if (schema === '' && catalog === '' && ctes.has(table.toLowerCase())) return null;
  const isSource = table === source.measurement && (schema === '' || schema === source.database) && catalog === '';
  if (isSource) return null;
  const named = [catalog, schema, table].filter((part) => part !== '').join('.');
  return `it reads '${named}', but a continuous query reads only its source measurement '${source.measurement}'`;
}

/** Why the tree is refused, or null. */
function nodeRefusal(node: Node, source: CqSource, ctes: ReadonlySet<string>): string | null {
  if (node['type'] === 'TABLE_FUNCTION') {
    const fn = node['function'];
    const name = isNode(fn) && typeof fn['function_name'] === 'string' ? fn['function_name'] : 'a table function';
    return `it calls the table function ${name}() (a continuous query reads only its source measurement)`;
  }
  if (node['type'] === 'BASE_TABLE') {
    const refusal = tableRefusal(node, source, ctes);
    if (refusal !== null) return refusal;
  }
  const name = node['function_name'];
  if (node['class'] === 'FUNCTION' && typeof name === 'string' && REFUSED_FUNCTIONS.has(name.toLowerCase())) return `it calls ${name}() (reads the server's state or changes between runs, so a window run twice could differ)`;
  for (const child of childNodes(node)) {
    const refusal = nodeRefusal(child, source, ctes);
    if (refusal !== null) return refusal;
  }
  return null;
}

/** Null when the query may run as a continuous query of `source`, else a message saying why not. `treeJson` is cqProbeSql's answer. */
export function cqQueryRefusal(treeJson: string, source: CqSource): string | null {
  const tree = parseTreeOf(treeJson);
  if (tree === null) return 'DuckDB gave no parse tree';
  if (tree['error'] === true) {
    const message = typeof tree['error_message'] === 'string' ? tree['error_message'] : 'not a SELECT';
    if (tree['error_type'] === 'parser') return `it does not parse: ${message}`;
    return message.startsWith('Only SELECT') ? 'it is not a SELECT (a continuous query only reads)' : message;
  }
  const statements = tree['statements'];
  if (!Array.isArray(statements) || statements.length !== 1) return 'it is not one SELECT statement';
  const [statement] = statements as unknown[];
  if (!isNode(statement)) return 'it is not one SELECT statement';
  return nodeRefusal(statement, source, cteNames(statement, new Set()));
}
