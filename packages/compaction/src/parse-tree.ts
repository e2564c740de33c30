/**
 * DuckDB's JSON parse tree (json_serialize_sql) as the compaction checks read it: the rewrite
 * predicate (row-predicate.ts), a continuous query (cq-query-check.ts) and a delete's time range
 * (delete-time-range.ts) walk the same untyped objects.
 */
export type ParseNode = Readonly<Record<string, unknown>>;

export function isNode(value: unknown): value is ParseNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The nodes directly under `node` (fields and list items that are objects). */
export function childNodes(node: ParseNode): ParseNode[] {
  return Object.values(node).flatMap((value) => (Array.isArray(value) ? value.filter(isNode) : isNode(value) ? [value] : []));
}

/** The tree of a probe's JSON answer, or null when DuckDB gave none. */
export function parseTreeOf(treeJson: string): ParseNode | null {
  let tree: unknown;
  try {
    tree = JSON.parse(treeJson);
  } catch {
    return null;
  }
  return isNode(tree) ? tree : null;
}
