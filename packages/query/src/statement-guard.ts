import { StatementType } from '@duckdb/node-api';
import type { DuckDBConnection, DuckDBPreparedStatement } from '@duckdb/node-api';
import { badRequest } from '@arc/errors';
import type { ArcError } from '@arc/errors';
import { QueryErrorCode } from './error-codes.js';
import { classifyDuckDBError } from './errors.js';
import { DEFAULT_WORD_LENGTH, QUOTES_ADDED, quoteDefaultAt } from './default-name.js';
import { DEFAULT_NAME_QUOTES_MAX, PARSED_STATEMENT_BYTES_MAX, STATEMENT_SHAPE_BYTES_MAX } from './limits.js';
import type { ParseTree, SqlNode } from './sql-tree.js';
import { BytesBoundedMemory } from './bytes-bounded-memory.js';
import { confirmsShape, maskLiterals, reshapedTree } from './statement-shapes.js';
import type { MaskedSql } from './statement-shapes.js';

/**
 * Asks DuckDB's parser, not a regex, what the SQL is. `json_serialize_sql` parses without binding
 * and serializes SELECT statements (SHOW, DESCRIBE and SUMMARIZE are SELECTs to it) as a JSON
 * tree: anything else (INSERT, COPY, ATTACH, SET, PRAGMA, CALL, EXPLAIN, ...) comes back as an
 * error of type "not implemented", syntax errors as "parser" with a byte position.
 */
const PARSE_SQL = 'SELECT json_serialize_sql($1::VARCHAR)::VARCHAR AS tree';

const PARSER_ERROR_TYPE = 'parser';

/**
 * `EXPLAIN [ANALYZE]` and `EXPLAIN (FORMAT x)` before a statement. The parser cannot serialize
 * EXPLAIN, so its statement is taken off, checked like any query and put back; DuckDB's prepared
 * statement type then confirms the whole is an EXPLAIN.
 */
const EXPLAIN_PREFIX = /^\s*EXPLAIN\b\s*(?:\(\s*FORMAT\s+[A-Za-z]+\s*\)\s*)?(?:ANALYZE\b)?/i;

/** A statement the guard let through: a SELECT (tree), or an EXPLAIN of one. */
export interface CheckedStatement {
  readonly statement: SqlNode;
  /**
   * The SQL of the statement the tree is of (without an EXPLAIN prefix), with a `default`
   * database name quoted where the user wrote it bare (see default-name.ts).
   */
  readonly sql: string;
  /** `EXPLAIN ...` text to put back before the statement; empty when it is no EXPLAIN. */
  readonly explainPrefix: string;
}

function forbidden(typeName: string): ArcError {
  return badRequest(QueryErrorCode.sqlForbidden, `Only read statements are allowed; got ${typeName}`, {
    statement_type: typeName,
  });
}

function multipleStatements(count: number): ArcError {
  return badRequest(QueryErrorCode.sqlMultipleStatements, `Send one statement per query; got ${String(count)}`, {
    statement_count: count,
  });
}

/** A parse of SQL text: the tree, and the text it is of (bare `default` names quoted). */
interface Parsed {
  readonly tree: ParseTree;
  /** Length of the tree's JSON text (what the parse cache counts). */
  readonly treeBytes: number;
  readonly sql: string;
  /** Where (code points) in `sql` quotes were added, so an error position points into the user's text. */
  readonly added: readonly number[];
}

function syntaxError({ tree, added }: Parsed): ArcError {
  const reported = Number(tree.position);
  const position = reported - added.filter((offset) => offset < reported).length;
  return badRequest(
    QueryErrorCode.sqlError,
    `Parser Error: ${tree.error_message ?? 'syntax error'}`,
    Number.isSafeInteger(position) ? { position } : undefined,
  );
}

/** Turns user SQL into a checked read statement, or throws an ArcError saying why not. */
export class StatementGuard {
  private readonly connection: DuckDBConnection;
  private readonly parseStatement: DuckDBPreparedStatement;
  /**
   * Statements checked, by SQL text: the parse depends on nothing but the text. Only statements
   * the guard let through are kept, each frozen, since every caller shares the one tree; a refused
   * one is parsed again to say why.
   */
  private readonly checkedBySql = new BytesBoundedMemory<CheckedStatement>(PARSED_STATEMENT_BYTES_MAX);
  /**
   * Trees of SELECTs by shape (statement-shapes.ts: the text without its string literals), with
   * the mask of the text each was parsed from: a text of a known shape is not parsed again.
   */
  private readonly treesByShape = new BytesBoundedMemory<{ readonly statement: SqlNode; readonly masked: MaskedSql }>(STATEMENT_SHAPE_BYTES_MAX);

  private constructor(connection: DuckDBConnection, parseStatement: DuckDBPreparedStatement) {
    this.connection = connection;
    this.parseStatement = parseStatement;
  }

  static async create(connection: DuckDBConnection): Promise<StatementGuard> {
    return new StatementGuard(connection, await connection.prepare(PARSE_SQL));
  }

  /** Parses the SQL into one read statement's tree (read-only: it may be shared with other calls). */
  async check(sql: string): Promise<CheckedStatement> {
    const known = this.checkedBySql.get(sql);
    if (known !== undefined) return known;
    const masked = maskLiterals(sql);
    const shaped = masked === null ? undefined : this.treesByShape.get(masked.shape);
    if (masked !== null && shaped !== undefined) {
      return deepFreeze({ statement: reshapedTree(shaped.statement, shaped.masked, masked), sql, explainPrefix: '' });
    }
    const { checked, treeBytes } = await this.checkParsed(sql);
    const frozen = deepFreeze(checked);
    this.checkedBySql.set(sql, frozen, treeBytes + sql.length);
    // Only a plain SELECT parsed from the text as sent (no `default` quoted, no EXPLAIN) has a shape.
    if (masked !== null && frozen.explainPrefix === '' && frozen.sql === sql && confirmsShape(frozen.statement, masked)) {
      this.treesByShape.set(masked.shape, { statement: frozen.statement, masked }, treeBytes + sql.length);
    }
    return frozen;
  }

  private async checkParsed(sql: string): Promise<{ checked: CheckedStatement; treeBytes: number }> {
    const parsed = await this.parseNamingDefault(sql);
    const { tree } = parsed;
    if (tree.error && tree.error_type === PARSER_ERROR_TYPE) throw syntaxError(parsed);
    if (tree.error) {
      // The text with `default` quoted: DuckDB's statement extraction cannot parse it bare either.
      const explain = EXPLAIN_PREFIX.exec(parsed.sql);
      if (explain !== null) return this.checkExplained(explain[0], parsed.sql.slice(explain[0].length));
      throw await this.refuseNonSelect(parsed.sql);
    }
    return { checked: { statement: singleStatement(tree), sql: parsed.sql, explainPrefix: '' }, treeBytes: parsed.treeBytes };
  }

  /**
   * Prepares the SQL Arc will run for a checked statement (the user's, possibly rewritten) and
   * confirms with the binder that it is the kind of statement the parser said.
   */
  async prepare(sql: string, checked: CheckedStatement): Promise<DuckDBPreparedStatement> {
    let prepared: DuckDBPreparedStatement;
    try {
      prepared = await this.connection.prepare(checked.explainPrefix + sql);
    } catch (error) {
      throw classifyDuckDBError(error);
    }
    const expected = checked.explainPrefix === '' ? StatementType.SELECT : StatementType.EXPLAIN;
    if (prepared.statementType !== expected) {
      const typeName = StatementType[prepared.statementType];
      prepared.destroySync();
      throw forbidden(typeName);
    }
    return prepared;
  }

  private async checkExplained(prefix: string, statementSql: string): Promise<{ checked: CheckedStatement; treeBytes: number }> {
    const parsed = await this.parseNamingDefault(statementSql);
    const { tree } = parsed;
    if (tree.error && tree.error_type === PARSER_ERROR_TYPE) throw syntaxError(parsed);
    if (tree.error) throw forbidden('EXPLAIN of a statement that is not SELECT');
    return { checked: { statement: singleStatement(tree), sql: parsed.sql, explainPrefix: prefix }, treeBytes: parsed.treeBytes };
  }

  /**
   * Parses, and while the parser stops at a bare `default` used as a database name, quotes that
   * one word and parses again: the parser's own error position says where the keyword stood, so
   * string literals, comments and quoted names are never rewritten.
   */
  private async parseNamingDefault(sql: string): Promise<Parsed> {
    let text = sql;
    const added: number[] = [];
    for (let round = 0; ; round++) {
      const { tree, treeBytes } = await this.parse(text);
      if (!tree.error || tree.error_type !== PARSER_ERROR_TYPE || round === DEFAULT_NAME_QUOTES_MAX) return { tree, treeBytes, sql: text, added };
      const quoted = quoteDefaultAt(text, Number(tree.position));
      if (quoted === null) return { tree, treeBytes, sql: text, added };
      // Quotes added earlier after this word move by the two quotes added around it.
      for (const [index, at] of added.entries()) if (at >= quoted.at) added[index] = at + QUOTES_ADDED;
      added.push(quoted.at, quoted.at + 1 + DEFAULT_WORD_LENGTH);
      text = quoted.sql;
    }
  }

  private async parse(sql: string): Promise<{ tree: ParseTree; treeBytes: number }> {
    this.parseStatement.bindVarchar(1, sql);
    const reader = await this.parseStatement.runAndReadAll();
    const text = reader.getRowsJS()[0]?.[0];
    if (typeof text !== 'string') throw new Error('json_serialize_sql returned no tree');
    return { tree: JSON.parse(text) as ParseTree, treeBytes: text.length };
  }

  /**
   * The error for SQL that is not one SELECT: several statements, or one of another type, named
   * by the type DuckDB gives it when it binds. A statement that does not bind (INSERT into a view)
   * cannot be named that way and is refused all the same.
   */
  private async refuseNonSelect(sql: string): Promise<ArcError> {
    const extracted = await this.connection.extractStatements(sql);
    if (extracted.count > 1) return multipleStatements(extracted.count);
    try {
      const prepared = await extracted.prepare(0);
      const typeName = StatementType[prepared.statementType];
      prepared.destroySync();
      // PRAGMA is rewritten into a SELECT at bind time; the parser already said it is no SELECT.
      return forbidden(typeName === 'SELECT' ? 'a statement DuckDB rewrites into a SELECT (such as PRAGMA)' : typeName);
    } catch {
      return forbidden('a statement that is not SELECT');
    }
  }
}

/** Freezes a parse result all the way down: a shared tree changed by one query would change the next. */
function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  for (const item of Object.values(value)) deepFreeze(item);
  return Object.freeze(value);
}

function singleStatement(tree: ParseTree): SqlNode {
  const statements = tree.statements ?? [];
  if (statements.length === 0) throw badRequest(QueryErrorCode.sqlEmpty, 'The query has no SQL statement');
  if (statements.length > 1) throw multipleStatements(statements.length);
  const first = statements[0];
  if (first === undefined) throw badRequest(QueryErrorCode.sqlEmpty, 'The query has no SQL statement');
  return first.node;
}
