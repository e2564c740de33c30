import { StatementType } from '@duckdb/node-api';
import type { DuckDBConnection, DuckDBPreparedStatement } from '@duckdb/node-api';
import { badRequest } from '@arc/config';
import type { ArcError } from '@arc/config';
import { QueryErrorCode, classifyDuckDBError } from './errors.js';

/**
 * Asks DuckDB's parser, not a regex, what the SQL is. `json_serialize_sql` parses without binding
 * and serializes SELECT statements only: anything else (INSERT, COPY, ATTACH, SET, PRAGMA, CALL,
 * EXPLAIN, ...) comes back as an error of type "not implemented", syntax errors as "parser".
 */
const PARSE_CHECK_SQL = `
  SELECT coalesce(tree->>'error' = 'true', false) AS failed,
         coalesce(tree->>'error_type', '') AS error_type,
         coalesce(tree->>'error_message', '') AS error_message,
         coalesce(json_array_length(tree->'statements'), 0)::INTEGER AS statement_count
  FROM (SELECT json_serialize_sql($1::VARCHAR)::JSON AS tree)`;

const PARSER_ERROR_TYPE = 'parser';

interface ParseVerdict {
  readonly failed: boolean;
  readonly errorType: string;
  readonly errorMessage: string;
  readonly statementCount: number;
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

/** Turns user SQL into a prepared SELECT, or throws an ArcError saying why not. */
export class StatementGuard {
  private readonly connection: DuckDBConnection;
  private readonly parseCheck: DuckDBPreparedStatement;

  private constructor(connection: DuckDBConnection, parseCheck: DuckDBPreparedStatement) {
    this.connection = connection;
    this.parseCheck = parseCheck;
  }

  static async create(connection: DuckDBConnection): Promise<StatementGuard> {
    return new StatementGuard(connection, await connection.prepare(PARSE_CHECK_SQL));
  }

  async prepareRead(sql: string): Promise<DuckDBPreparedStatement> {
    const verdict = await this.parse(sql);
    if (verdict.failed && verdict.errorType === PARSER_ERROR_TYPE) {
      throw badRequest(QueryErrorCode.sqlError, `Parser Error: ${verdict.errorMessage}`);
    }
    if (verdict.failed) throw await this.refuseNonSelect(sql);
    if (verdict.statementCount === 0) throw badRequest(QueryErrorCode.sqlEmpty, 'The query has no SQL statement');
    if (verdict.statementCount > 1) throw multipleStatements(verdict.statementCount);
    const prepared = await this.prepare(sql);
    // Belt and braces: the parser said SELECT; the binder must agree.
    if (prepared.statementType !== StatementType.SELECT) throw forbidden(StatementType[prepared.statementType]);
    return prepared;
  }

  private async parse(sql: string): Promise<ParseVerdict> {
    this.parseCheck.bindVarchar(1, sql);
    const reader = await this.parseCheck.runAndReadAll();
    const row = reader.getRowsJS()[0];
    if (row === undefined) throw new Error('json_serialize_sql returned no row');
    const [failed, errorType, errorMessage, statementCount] = row;
    return {
      failed: failed === true,
      errorType: String(errorType),
      errorMessage: String(errorMessage),
      statementCount: Number(statementCount),
    };
  }

  private async prepare(sql: string): Promise<DuckDBPreparedStatement> {
    try {
      return await this.connection.prepare(sql);
    } catch (error) {
      throw classifyDuckDBError(error);
    }
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
