/**
 * The InfluxQL subset Arc answers, as parsed. Times are integer nanoseconds (bigint), InfluxDB's
 * resolution; durations too.
 */

export type Expr =
  | { readonly kind: 'identifier'; readonly name: string; readonly offset: number }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'number'; readonly value: number; readonly integer: boolean; readonly text: string }
  | { readonly kind: 'boolean'; readonly value: boolean }
  | { readonly kind: 'duration'; readonly nanos: bigint; readonly text: string }
  | { readonly kind: 'regex'; readonly pattern: string; readonly offset: number }
  | { readonly kind: 'now' }
  | { readonly kind: 'star' }
  | { readonly kind: 'call'; readonly name: string; readonly args: readonly Expr[]; readonly offset: number }
  | { readonly kind: 'unary'; readonly operator: '-'; readonly operand: Expr }
  | { readonly kind: 'binary'; readonly operator: BinaryOperator; readonly left: Expr; readonly right: Expr; readonly offset: number };

export const COMPARISON_OPERATORS = ['=', '!=', '<>', '<', '<=', '>', '>=', '=~', '!~'] as const;
export const ARITHMETIC_OPERATORS = ['+', '-', '*', '/', '%'] as const;
export type ComparisonOperator = (typeof COMPARISON_OPERATORS)[number];
export type ArithmeticOperator = (typeof ARITHMETIC_OPERATORS)[number];
export type BinaryOperator = ComparisonOperator | ArithmeticOperator | 'AND' | 'OR';

export interface SelectField {
  readonly expr: Expr;
  readonly alias: string | null;
}

/** A `/pattern/` as written (Go RE2 syntax) and the offset of its opening slash in the query. */
export interface RegexLiteral {
  readonly pattern: string;
  readonly offset: number;
}

/**
 * `db.rp.m`, `db..m`, `rp.m` or `m`; the retention policy is accepted and ignored. `FROM /re/`
 * (also `db.rp./re/`) gives `regex`, and `measurement` is '' until the executor expands it into
 * the measurements the regex matches.
 */
export interface Source {
  readonly database: string | null;
  /** The retention policy as written (`rp` of `db.rp.m` / `rp.m`); absent when none was. */
  readonly retentionPolicy?: string;
  readonly measurement: string;
  /** A continuous query's `INTO db.rp.:MEASUREMENT`: each source measurement into its own name (`measurement` is ''). */
  readonly measurementBackReference?: true;
  /** `FROM (SELECT ...)`: the inner statement's answer is the measurement (one level deep). */
  readonly subquery?: SelectStatement;
  /** The subquery's text as written, from SELECT to before `)` (a continuous query's SHOW prints it). */
  readonly subqueryText?: string;
  readonly regex?: RegexLiteral;
}

export type FillOption =
  | { readonly kind: 'null' }
  | { readonly kind: 'none' }
  | { readonly kind: 'previous' }
  | { readonly kind: 'linear' }
  | { readonly kind: 'value'; readonly value: number };

export interface GroupByTime {
  readonly intervalNanos: bigint;
  readonly offsetNanos: bigint;
}

export interface SelectStatement {
  readonly kind: 'select';
  readonly fields: readonly SelectField[];
  readonly sources: readonly Source[];
  readonly where: Expr | null;
  readonly groupByTime: GroupByTime | null;
  /** Tag names of GROUP BY, in the order given. */
  readonly groupByTags: readonly string[];
  /** GROUP BY * : every tag of the measurement. */
  readonly groupByAllTags: boolean;
  /** null when no fill() was given (InfluxDB's default is fill(null)). */
  readonly fill: FillOption | null;
  readonly descending: boolean;
  readonly limit: number | null;
  readonly offset: number;
  readonly seriesLimit: number | null;
  readonly seriesOffset: number;
  /** `tz('Europe/Paris')`: an IANA zone for bucket boundaries and answer times; null is UTC. */
  readonly timeZone: string | null;
}

/** `= x`, `!= x`, `=~ /re/`, `!~ /re/` or `IN (a, b)` applied to a name (measurement, tag key). */
export type NameFilter =
  | { readonly kind: 'equal' | 'notEqual'; readonly value: string }
  | { readonly kind: 'match' | 'notMatch'; readonly pattern: string; readonly offset: number }
  | { readonly kind: 'in'; readonly values: readonly string[] };

export interface ShowOptions {
  /** `ON db` */
  readonly database: string | null;
  /** `FROM m` */
  readonly measurement: Source | null;
  readonly limit: number | null;
  readonly offset: number;
}

export type Statement =
  | SelectStatement
  | { readonly kind: 'showDatabases' }
  | { readonly kind: 'showRetentionPolicies'; readonly database: string | null }
  | { readonly kind: 'showMeasurements'; readonly options: ShowOptions; readonly filter: NameFilter | null; readonly where: Expr | null }
  | { readonly kind: 'showTagKeys'; readonly options: ShowOptions; readonly where: Expr | null }
  | { readonly kind: 'showTagValues'; readonly options: ShowOptions; readonly key: NameFilter; readonly where: Expr | null }
  | { readonly kind: 'showFieldKeys'; readonly options: ShowOptions }
  | { readonly kind: 'showSeries'; readonly options: ShowOptions; readonly where: Expr | null }
  | {
      readonly kind: 'showCardinality';
      readonly of: CardinalityOf;
      readonly exact: boolean;
      readonly options: ShowOptions;
      /** `WITH KEY ...` of SHOW TAG VALUES CARDINALITY; null for the others. */
      readonly key: NameFilter | null;
      readonly where: Expr | null;
    }
  | { readonly kind: 'createDatabase'; readonly name: string }
  | CreateContinuousQueryStatement
  | { readonly kind: 'showContinuousQueries' }
  | { readonly kind: 'dropContinuousQuery'; readonly name: string; readonly database: string }
  | DeleteStatement;

/**
 * `CREATE CONTINUOUS QUERY <name> ON <db> [RESAMPLE [EVERY d] [FOR d]] BEGIN SELECT ... INTO
 * <target> FROM ... GROUP BY time(d)[, tags] END` (continuous-query-parser.ts).
 */
export interface CreateContinuousQueryStatement {
  readonly kind: 'createContinuousQuery';
  readonly name: string;
  readonly database: string;
  readonly everyNanos: bigint | null;
  readonly forNanos: bigint | null;
  readonly select: SelectStatement;
  readonly into: Source;
  /** The statement's text from SELECT to the last token before END, as written (SHOW shows it normalised from it). */
  readonly selectText: string;
  /** `RESAMPLE ...` as written, or ''. */
  readonly resampleText: string;
  /** Where `INTO ... FROM ...` is in selectText: from INTO to the token after the sources (SHOW rewrites it qualified). */
  readonly intoFromOffsetStart: number;
  readonly intoFromOffsetEnd: number;
}

/** A continuous query's INTO target and where its `INTO ... FROM <sources>` text lies in the statement. */
export interface IntoClause {
  readonly target: Source;
  /** The offset of INTO. */
  readonly offsetStart: number;
  /** The offset of the token after FROM's sources. */
  readonly offsetEnd: number;
}

/**
 * `DELETE [FROM m, /re/] [WHERE ...]` and `DROP SERIES [FROM ...] [WHERE ...]` (sources null: every
 * measurement of the database), `DROP MEASUREMENT m` (delete-statements.ts).
 */
export type DeleteStatement =
  | { readonly kind: 'delete' | 'dropSeries'; readonly sources: readonly Source[] | null; readonly where: Expr | null }
  | { readonly kind: 'dropMeasurement'; readonly name: string };

/** What `SHOW <x> [EXACT] CARDINALITY` counts. */
export type CardinalityOf = 'series' | 'measurement' | 'tagKey' | 'fieldKey' | 'tagValues';
