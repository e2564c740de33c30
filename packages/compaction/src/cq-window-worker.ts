import { TIME_COLUMN, quoteIdentifier } from '@arc/columnar';
import type { ColumnSpec } from '@arc/storage';
import { cqProbeSql, cqQueryRefusal, type CqSource } from './cq-query-check.js';
import { copyToSql, describeFileSql, inputTagsSql, outputFactsSql, parseTags, readInputsSql, shadowedVirtualColumn, type OutputFormat } from './merge-sql.js';

/**
 * The merge worker's side of a continuous query's window (cq-window-replace.ts runs the rest on
 * the main thread): the query runs over views named as the source measurement (bare and
 * qualified by its database) on the source's files of the window, its answer is checked (a
 * `time` column, every row inside the window) and written as one staged Parquet file per hour
 * of the layout it covers, sorted by its tags then time, with `arc:tags` in the footer.
 */

/** One staged output slot: the hour it is for (µs) and its path. */
export interface CqOutputSlot {
  readonly hourUs: number;
  readonly path: string;
}

export interface CqWindowTask {
  readonly source: CqSource;
  /** DuckDB-readable locations of the source's files that hold rows of the window (at least one). */
  readonly sourceInputs: readonly string[];
  /** The query with its placeholders filled. */
  readonly query: string;
  readonly windowStartUs: number;
  readonly windowEndUs: number;
  /** A slot per hour of the window, in order. */
  readonly outputs: readonly CqOutputSlot[];
  readonly compressionLevel: number;
  readonly rowGroupSize: number;
}

export interface CqWindowFile {
  readonly hourUs: number;
  readonly path: string;
  readonly rows: number;
  readonly minTimeUs: number;
  readonly maxTimeUs: number;
}

export interface CqWindowResult {
  /** Source rows in the window. */
  readonly recordsRead: number;
  readonly rows: number;
  readonly files: readonly CqWindowFile[];
  readonly columns: readonly ColumnSpec[];
  readonly tags: readonly string[];
}

type Row = Record<string, unknown>;
/** Runs one statement on the worker's connection (merge-worker.ts runHere: honours stop and pause). */
export type RunSql = (sql: string) => Promise<{ getRowObjectsJS(): Row[] }>;

/** The answer's table (a temp table of the worker's connection, dropped after each window). */
const ROWS_TABLE = 'arc_cq_rows';

/** Why the query is refused, by DuckDB's parse of it; null when it may run. */
export async function cqQueryRefusalOf(run: RunSql, query: string, source: CqSource): Promise<string | null> {
  const [row] = (await run(cqProbeSql(query))).getRowObjectsJS();
  const tree = row?.['tree'];
  return cqQueryRefusal(typeof tree === 'string' ? tree : '', source);
}

function timestampUs(us: number): string {
  return `make_timestamp(${String(us)}::BIGINT)`;
}

/** The views the query reads: the source's files of the window, under its bare and its qualified name. */
async function createSourceViews(run: RunSql, task: CqWindowTask): Promise<void> {
  const select = `SELECT * FROM ${readInputsSql(task.sourceInputs)}`;
  const schema = quoteIdentifier(task.source.database);
  const table = quoteIdentifier(task.source.measurement);
  await run(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  await run(`CREATE OR REPLACE VIEW ${schema}.${table} AS ${select}`);
  if (task.source.database !== 'main') await run(`CREATE OR REPLACE VIEW main.${table} AS ${select}`);
}

async function dropSourceViews(run: RunSql, task: CqWindowTask): Promise<void> {
  const table = quoteIdentifier(task.source.measurement);
  await run(`DROP TABLE IF EXISTS ${ROWS_TABLE}`);
  await run(`DROP VIEW IF EXISTS ${quoteIdentifier(task.source.database)}.${table}`);
  if (task.source.database !== 'main') await run(`DROP VIEW IF EXISTS main.${table}`);
}

async function columnsOfRows(run: RunSql): Promise<ColumnSpec[]> {
  return (await run(`DESCRIBE SELECT * FROM ${ROWS_TABLE}`)).getRowObjectsJS().map((row) => ({ name: String(row['column_name']), type: String(row['column_type']) }));
}

/** The answer's columns as written: `time` as a TIMESTAMP (UTC), the others as the query typed them. */
function selectListOf(columns: readonly ColumnSpec[]): string {
  return columns
    .map((column) => {
      const name = quoteIdentifier(column.name);
      if (column.name !== TIME_COLUMN || column.type === 'TIMESTAMP') return name;
      if (column.type === 'TIMESTAMP WITH TIME ZONE') return `timezone('UTC', ${name}) AS ${name}`;
      return `${name}::TIMESTAMP AS ${name}`;
    })
    .join(', ');
}

/** The answer's shape, or why it cannot be a window's output. */
function shapeRefusal(columns: readonly ColumnSpec[]): string | null {
  const time = columns.find((column) => column.name === TIME_COLUMN);
  if (time === undefined) return `the query's answer has no '${TIME_COLUMN}' column (name the window's bucket time, as in time_bucket(INTERVAL '1 minute', time) AS time)`;
  if (!['TIMESTAMP', 'TIMESTAMP WITH TIME ZONE', 'DATE', 'TIMESTAMP_S', 'TIMESTAMP_MS', 'TIMESTAMP_NS'].includes(time.type)) return `the query's '${TIME_COLUMN}' column is ${time.type}, not a timestamp`;
  const shadowed = shadowedVirtualColumn(columns);
  if (shadowed !== null) return `the query's answer has a column '${shadowed}', a name Arc's merges reserve`;
  if (new Set(columns.map((column) => column.name.toLowerCase())).size !== columns.length) return "the query's answer has two columns of the same name";
  return null;
}

/** The source's tags that the answer keeps as text columns: they stay tags in the destination. */
async function outputTags(run: RunSql, task: CqWindowTask, columns: readonly ColumnSpec[]): Promise<string[]> {
  const tags: string[] = [];
  for (const row of (await run(inputTagsSql(task.sourceInputs))).getRowObjectsJS()) {
    for (const tag of parseTags(String(row['tags'])) ?? []) {
      const column = columns.find((candidate) => candidate.name === tag);
      if (tag !== TIME_COLUMN && column?.type === 'VARCHAR' && !tags.includes(tag)) tags.push(tag);
    }
  }
  return tags;
}

/** Writes the answer's rows of each hour to that hour's slot. */
async function writeHours(run: RunSql, task: CqWindowTask, columns: readonly ColumnSpec[], tags: readonly string[]): Promise<CqWindowFile[]> {
  const time = quoteIdentifier(TIME_COLUMN);
  const format: OutputFormat = { compressionLevel: task.compressionLevel, rowGroupSize: task.rowGroupSize, tags };
  const hours = (await run(`SELECT DISTINCT epoch_us(date_trunc('hour', ${time}))::BIGINT AS hour_us FROM ${ROWS_TABLE} ORDER BY 1`)).getRowObjectsJS().map((row) => Number(row['hour_us']));
  const order = [...tags.map((tag) => `${quoteIdentifier(tag)} ASC NULLS LAST`), `${time} ASC`].join(', ');
  const files: CqWindowFile[] = [];
  for (const hourUs of hours) {
    const slot = task.outputs.find((candidate) => candidate.hourUs === hourUs);
    if (slot === undefined) throw new Error(`no output slot for the hour at ${String(hourUs)} µs`);
    const select = `SELECT ${columns.map((column) => quoteIdentifier(column.name)).join(', ')} FROM ${ROWS_TABLE} WHERE ${time} >= ${timestampUs(hourUs)} AND ${time} < ${timestampUs(hourUs + 3_600_000_000)} ORDER BY ${order}`;
    await run(copyToSql(select, slot.path, format));
    const [facts] = (await run(outputFactsSql(slot.path))).getRowObjectsJS();
    files.push({ hourUs, path: slot.path, rows: Number(facts?.['rows']), minTimeUs: Number(facts?.['min_us']), maxTimeUs: Number(facts?.['max_us']) });
  }
  return files;
}

/** Counts the answer's rows, and those outside the window (which would escape its replacement). */
async function countRows(run: RunSql, task: CqWindowTask): Promise<{ rows: number; outside: number }> {
  const time = quoteIdentifier(TIME_COLUMN);
  const outside = `${time} IS NULL OR ${time} < ${timestampUs(task.windowStartUs)} OR ${time} >= ${timestampUs(task.windowEndUs)}`;
  const [row] = (await run(`SELECT count(*)::BIGINT AS rows, (count(*) FILTER (WHERE ${outside}))::BIGINT AS outside FROM ${ROWS_TABLE}`)).getRowObjectsJS();
  return { rows: Number(row?.['rows']), outside: Number(row?.['outside']) };
}

async function recordsRead(run: RunSql, task: CqWindowTask): Promise<number> {
  const time = quoteIdentifier(TIME_COLUMN);
  const sql = `SELECT count(*)::BIGINT AS rows FROM ${readInputsSql(task.sourceInputs)} WHERE ${time} >= ${timestampUs(task.windowStartUs)} AND ${time} < ${timestampUs(task.windowEndUs)}`;
  return Number((await run(sql)).getRowObjectsJS()[0]?.['rows']);
}

/**
 * Runs the window's query and stages its rows; throws (an Error whose message the caller
 * reports) when the query fails or its answer cannot be the window's output.
 */
async function computeWindowRows(run: RunSql, task: CqWindowTask): Promise<CqWindowResult> {
  await createSourceViews(run, task);
  await run(`CREATE OR REPLACE TEMP TABLE ${ROWS_TABLE} AS ${task.query}`);
  const queried = await columnsOfRows(run);
  const refusal = shapeRefusal(queried);
  if (refusal !== null) throw new Error(refusal);
  await run(`CREATE OR REPLACE TEMP TABLE ${ROWS_TABLE} AS SELECT ${selectListOf(queried)} FROM ${ROWS_TABLE}`);
  const { rows, outside } = await countRows(run, task);
  if (outside > 0) throw new Error(`${String(outside)} of the query's ${String(rows)} rows have a time outside the window (or none): each row's time must lie in [{start_time}, {end_time}), as time_bucket(<at most the interval>, time) AS time gives`);
  const columns = await columnsOfRows(run);
  const tags = await outputTags(run, task, columns);
  const files = await writeHours(run, task, columns, tags);
  const [first] = files;
  const described = first === undefined ? columns : (await run(describeFileSql(first.path))).getRowObjectsJS().map((row) => ({ name: String(row['column_name']), type: String(row['column_type']) }));
  return { recordsRead: await recordsRead(run, task), rows, files, columns: described, tags };
}

/**
 * computeWindowRows, then the views and the answer's table dropped whatever happened. The slots
 * written are the caller's to remove (cq-window-replace.ts discards every slot not published).
 */
export async function computeWindow(run: RunSql, task: CqWindowTask): Promise<CqWindowResult> {
  try {
    return await computeWindowRows(run, task);
  } finally {
    await dropSourceViews(run, task).catch(() => undefined);
  }
}

