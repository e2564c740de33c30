import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { measurementLinesSql, type MeasurementColumn } from '@arc/server';
import { ApiClient, ServerRefusalError, ServerRequestError } from './api-client.js';
import { CommandUsageError, isRfc3339, parseCommandArgs } from './command-text.js';
import { EXIT_OK, exitCodesText } from './exit-codes.js';
import { SERVER_OPTIONS, runServerCommand, serverTargetOf, type ServerCommandIo, type ServerTarget } from './server-command.js';
import { serverUrlOf } from './server-url.js';

export const EXPORT_USAGE = `Usage: arc export --database <name> --measurement <name> --format <parquet|csv|lp> --output <file> [options]

Writes a measurement's rows (in a time range) from a running Arc server to a file: Parquet, CSV or
line protocol. Rows are streamed from POST /query/stream (no row cap); line protocol is built by the
server from the measurement's schema (tags as tags, integer fields with 'i'). The token needs read.

Options:
  --url <url>            the server (default http://127.0.0.1:<server.port of arc.conf>)
  --token <token>        a token that may read the database (default: the ARC_TOKEN environment variable)
  --database <name>      the database (required)
  --measurement <name>   the measurement (required)
  --start <time>         first time included, RFC 3339 (default: the first row)
  --end <time>           first time excluded, RFC 3339 (default: after the last row)
  --format <f>           parquet, csv or lp (required)
  --output <file>        the file written (required; replaced if it exists)
  --json                 print the summary as JSON
  --config <arc.conf>    where to read server.port when --url is not given

  -h, --help             show this text

${exitCodesText('the file was written', 'the server refused or could not be reached, or the file could not be written')}`;

export const EXPORT_FORMATS = ['parquet', 'csv', 'lp'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

const OPTIONS = {
  ...SERVER_OPTIONS,
  database: { type: 'string' },
  measurement: { type: 'string' },
  start: { type: 'string' },
  end: { type: 'string' },
  format: { type: 'string' },
  output: { type: 'string' },
} as const;

export interface ExportOptions extends ServerTarget {
  readonly database: string;
  readonly measurement: string;
  readonly start: string | null;
  readonly end: string | null;
  readonly format: ExportFormat;
  readonly output: string;
}

function required(value: string | undefined, option: string): string {
  if (value === undefined || value.trim() === '') throw new CommandUsageError(`option '--${option}' is required`);
  return value;
}

function time(value: string | undefined, option: string): string | null {
  if (value === undefined) return null;
  if (!isRfc3339(value)) throw new CommandUsageError(`option '--${option}' must be an RFC 3339 time (2026-01-01T00:00:00Z), got '${value}'`);
  return new Date(value).toISOString();
}

export function parseExportArgs(args: readonly string[], env: NodeJS.ProcessEnv): ExportOptions {
  const { values } = parseCommandArgs({ args: [...args], options: OPTIONS, allowPositionals: false, strict: true });
  const format = required(values.format, 'format');
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) throw new CommandUsageError(`--format must be parquet, csv or lp, not '${format}'`);
  const measurement = required(values.measurement, 'measurement');
  if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(measurement)) throw new CommandUsageError(`'${measurement}' is no measurement name`);
  return {
    ...serverTargetOf(values, env),
    database: required(values.database, 'database'),
    measurement,
    start: time(values.start, 'start'),
    end: time(values.end, 'end'),
    format: format as ExportFormat,
    output: required(values.output, 'output'),
  };
}

/** The WHERE clause of the time range ('' for all rows); the bounds are checked ISO times. */
export function timeRangeWhere(start: string | null, end: string | null): string {
  const bounds = [...(start === null ? [] : [`time >= '${start}'`]), ...(end === null ? [] : [`time < '${end}'`])];
  return bounds.join(' AND ');
}

async function describeMeasurement(client: ApiClient, options: ExportOptions): Promise<MeasurementColumn[]> {
  const body = JSON.stringify({ sql: `DESCRIBE ${options.measurement}`, format: 'json' });
  const answer = (await client.requestUntilAnswered('POST', '/query', body, { 'x-arc-database': options.database })) as { columns: string[]; data: unknown[][] };
  const at = (name: string): number => answer.columns.indexOf(name);
  return answer.data.map((row) => ({ name: String(row[at('column_name')]), type: String(row[at('column_type')]), extra: String(row[at('extra')]) }));
}

/** POSTs to /query/stream and hands each piece of the answer to `onPiece`, awaiting it (back-pressure). */
async function streamQuery(baseUrl: string, token: string | null, database: string, sql: string, format: 'csv' | 'ndjson', onPiece: (piece: Uint8Array) => Promise<void>): Promise<void> {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-arc-database': database, ...(token === null ? {} : { authorization: `Bearer ${token}` }) };
  let response: Response;
  try {
    response = await fetch(`${baseUrl}/query/stream`, { method: 'POST', headers, body: JSON.stringify({ sql, format }) });
  } catch (error) {
    throw new ServerRequestError(`cannot reach ${baseUrl}: ${(error as Error).message}`);
  }
  if (response.status !== 200 || response.body === null) {
    const text = await response.text();
    const json = (() => {
      try {
        return JSON.parse(text) as { error?: string; code?: string };
      } catch {
        return {};
      }
    })();
    throw new ServerRefusalError('POST', '/query/stream', response.status, json.error ?? text, json.code ?? null);
  }
  for await (const piece of response.body as AsyncIterable<Uint8Array>) await onPiece(piece);
}

function write(stream: WriteStream, bytes: Uint8Array | string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (stream.write(bytes)) resolve();
    else stream.once('drain', resolve).once('error', reject);
  });
}

function closeStream(stream: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => stream.end((error?: Error | null) => (error ? reject(error) : resolve())));
}

/** Streams `sql`'s NDJSON answer into `file`, through `transform` per row line; the rows written. */
async function ndjsonToFile(baseUrl: string, options: ExportOptions, sql: string, file: string, transform: (row: string) => string): Promise<number> {
  const out = createWriteStream(file);
  const decoder = new TextDecoder();
  let carry = '';
  let rows = 0;
  await streamQuery(baseUrl, options.token, options.database, sql, 'ndjson', async (piece) => {
    const text = carry + decoder.decode(piece, { stream: true });
    const cut = text.lastIndexOf('\n');
    carry = text.slice(cut + 1);
    if (cut < 0) return;
    const lines = text.slice(0, cut).split('\n').filter((line) => line !== '');
    rows += lines.length;
    await write(out, lines.map(transform).join('\n') + '\n');
  });
  if (carry.trim() !== '') {
    rows += 1;
    await write(out, `${transform(carry)}\n`);
  }
  await closeStream(out);
  return rows;
}

async function exportCsv(baseUrl: string, options: ExportOptions, where: string): Promise<number> {
  const out = createWriteStream(options.output);
  let newlines = 0;
  await streamQuery(baseUrl, options.token, options.database, `SELECT * FROM ${options.measurement}${where === '' ? '' : ` WHERE ${where}`} ORDER BY time`, 'csv', async (piece) => {
    for (const byte of piece) if (byte === 0x0a) newlines += 1;
    await write(out, piece);
  });
  await closeStream(out);
  return Math.max(0, newlines - 1);
}

/** Parquet: the rows are streamed to a temporary NDJSON file, then DuckDB writes it typed as the measurement's schema. */
async function exportParquet(baseUrl: string, options: ExportOptions, columns: readonly MeasurementColumn[], where: string): Promise<number> {
  const directory = await mkdtemp(path.join(tmpdir(), 'arc-export-'));
  try {
    const rowsFile = path.join(directory, 'rows.ndjson');
    const rows = await ndjsonToFile(baseUrl, options, `SELECT * FROM ${options.measurement}${where === '' ? '' : ` WHERE ${where}`} ORDER BY time`, rowsFile, (row) => row);
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const instance = await DuckDBInstance.create(':memory:', { threads: '2', autoinstall_known_extensions: 'false', autoload_known_extensions: 'false' });
    const connection = await instance.connect();
    const quote = (text: string): string => `'${text.replaceAll("'", "''")}'`;
    const types = columns.map((column) => `${quote(column.name)}: ${quote(column.type)}`).join(', ');
    const tags = JSON.stringify(columns.filter((column) => column.extra === 'tag').map((column) => column.name));
    await connection.run("SET TimeZone = 'UTC'");
    await connection.run(
      `COPY (SELECT * FROM read_json(${quote(rowsFile)}, format = 'newline_delimited', columns = {${types}})) TO ${quote(path.resolve(options.output))} (FORMAT parquet, COMPRESSION zstd, KV_METADATA {'arc:tags': ${quote(tags)}})`,
    );
    connection.closeSync();
    return rows;
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

export type ExportIo = ServerCommandIo;

export async function exportCommand(args: readonly string[], io: ExportIo): Promise<number> {
  return runServerCommand('export', EXPORT_USAGE, args, io, async () => {
    const options = parseExportArgs(args, io.env);
    const baseUrl = serverUrlOf(options.url, options.configPath);
    const client = new ApiClient(baseUrl, options.token);
    const started = performance.now();
    const columns = await describeMeasurement(client, options);
    const where = timeRangeWhere(options.start, options.end);
    let rows: number;
    if (options.format === 'csv') rows = await exportCsv(baseUrl, options, where);
    else if (options.format === 'lp') rows = await ndjsonToFile(baseUrl, options, measurementLinesSql(options.measurement, columns, where), options.output, (row) => (JSON.parse(row) as { line: string }).line);
    else rows = await exportParquet(baseUrl, options, columns, where);
    const summary = { database: options.database, measurement: options.measurement, format: options.format, output: options.output, rows, duration_ms: Math.round(performance.now() - started) };
    io.stdout.write(options.json ? `${JSON.stringify(summary)}\n` : `exported ${String(rows)} rows of ${options.database}.${options.measurement} to ${options.output} (${options.format})\n`);
    return EXIT_OK;
  });
}
