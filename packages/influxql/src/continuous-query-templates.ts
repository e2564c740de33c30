import type { CreateContinuousQueryStatement } from './ast.js';
import { templateDefinitions, type ContinuousQueryDefinition } from './continuous-query-sql.js';
import { influxqlOrigin, type ContinuousQueryEntry, type ContinuousQueryTemplate, type ReadContinuousQuerySources } from './continuous-query-statements.js';
import { isParseError, parseQuery } from './parser.js';
import { StatementFailure } from './sql-text.js';

/**
 * Re-expansion of a kept CREATE CONTINUOUS QUERY (a template: fn(*), GROUP BY *, FROM /re/ or
 * several measurements) over the catalog as it is now, as InfluxDB expands them at each run: a
 * measurement that now has data and matches gets its Arc query, one whose fields or tags changed
 * gets its query text replaced (its windows, catch-up point and span rolled up stay: only the
 * SQL differs). Measurements that went away keep their queries (DROP removes them). The server
 * applies the changes (its influxql-cq-expander.ts).
 */

/** What a re-expansion changes: queries to make, queries whose SQL to replace, measurements refused (with why). */
export interface TemplateChanges {
  readonly create: readonly ContinuousQueryDefinition[];
  readonly update: readonly ContinuousQueryDefinition[];
  readonly refused: readonly { readonly measurement: string; readonly reason: string }[];
}

/** The decision: definitions of names not made yet are created, those whose SQL differs from the one made are updated. */
export function templateChanges(definitions: readonly ContinuousQueryDefinition[], existing: readonly Pick<ContinuousQueryEntry, 'name' | 'query'>[]): Pick<TemplateChanges, 'create' | 'update'> {
  const queryByName = new Map(existing.map((entry) => [entry.name, entry.query]));
  return {
    create: definitions.filter((definition) => !queryByName.has(definition.name)),
    update: definitions.filter((definition) => queryByName.has(definition.name) && queryByName.get(definition.name) !== definition.query),
  };
}

/** The kept statement, parsed again (it is SHOW's text of a statement that parsed). */
export function templateStatement(template: ContinuousQueryTemplate): CreateContinuousQueryStatement {
  const parsed = parseQuery(template.statement);
  const [statement] = isParseError(parsed) ? [] : parsed;
  if (statement?.kind !== 'createContinuousQuery') throw new Error(`a kept continuous query statement parses: ${template.statement}`);
  return statement;
}

/** The databases the kept statement reads (its FROM's, its own when FROM names none). */
export function templateSourceDatabases(template: ContinuousQueryTemplate): string[] {
  const statement = templateStatement(template);
  return [...new Set(statement.select.sources.map((source) => source.database ?? statement.database))];
}

/**
 * The changes re-expanding `template` makes to `entries` (every Arc query; those made from it are
 * picked by their description). A measurement whose definition is refused (INTO the measurement
 * it reads, across databases) is left out and named: the others go on.
 */
export async function reexpandTemplate(template: ContinuousQueryTemplate, entries: readonly ContinuousQueryEntry[], readSources: ReadContinuousQuerySources, nowNanos: bigint): Promise<TemplateChanges> {
  const statement = templateStatement(template);
  const sources = await readSources(statement.select.sources, statement.database);
  const definitions: ContinuousQueryDefinition[] = [];
  const refused: { measurement: string; reason: string }[] = [];
  for (const source of sources) {
    try {
      definitions.push(...templateDefinitions(statement, template.statement, [source], nowNanos));
    } catch (error) {
      if (!(error instanceof StatementFailure)) throw error;
      refused.push({ measurement: `${source.database}.${source.measurement}`, reason: error.message });
    }
  }
  const made = entries.filter((entry) => {
    const origin = influxqlOrigin(entry);
    return origin !== null && origin.database === statement.database && origin.name === statement.name;
  });
  return { ...templateChanges(definitions, made), refused };
}
