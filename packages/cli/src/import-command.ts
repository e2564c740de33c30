import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { readdir, stat } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import path from 'node:path';
import { ServerRefusalError, ServerRequestError } from './api-client.js';
import { CommandUsageError, parseCommandArgs } from './command-text.js';
import { EXIT_FAILED, EXIT_OK, exitCodesText } from './exit-codes.js';
import { IMPORT_PROGRESS_INTERVAL_MS } from './limits.js';
import { SERVER_OPTIONS, runServerCommand, serverTargetOf, type ServerCommandIo, type ServerTarget } from './server-command.js';
import { serverUrlOf } from './server-url.js';
import { importJobCommand, isImportJobSource, type ImportJobIo } from './import-job-command.js';
import { formatBytes, formatSeconds, progressCells, redrawnLine } from './progress-bar.js';

export const IMPORT_USAGE = `Usage: arc import <file|directory|url> --database <name> [options]
       arc import influx --from <http://host:8086> --source-db <db> --database <name> [options]
       arc import postgres --from <postgres://user@host/db> --table <t> --time-column <c> --database <name> [options]

'arc import influx --help' and 'arc import postgres --help' describe the imports from another
system, run by the server as a job (a file or directory named influx or postgres: ./influx).

Streams a line protocol, CSV or Parquet file to a running Arc server (POST /api/v1/import/lp, csv,
parquet): the file is sent as it is read, never loaded whole, and the server hands it to ingest in
chunks. A directory imports each file in it whose extension names a format (.lp .txt .csv .parquet,
each also gzip-compressed as .gz: sent as it is, the server decompresses it);
an http(s) URL is downloaded and sent as it arrives.
The token needs the admin permission.

Options:
  --url <url>            the server (default http://127.0.0.1:<server.port of arc.conf>)
  --token <token>        an admin token (default: the ARC_TOKEN environment variable)
  --database <name>      the database (required)
  --format <lp|csv|parquet>  the file's format (default: from its extension)
  --measurement <name>   CSV and Parquet: the measurement (required for them)
  --time-column <name>   CSV and Parquet: the column holding the time (default time)
  --time-format <f>      epoch_s, epoch_ms, epoch_us, epoch_ns or rfc3339 (default: detected)
  --tag-columns <a,b>    CSV and Parquet: columns stored as tags
  --delimiter <c>        CSV: the delimiter (default ,)
  --precision <p>        line protocol: unit of the timestamps (default ns)
  --json                 print the server's answers as JSON (the default when stdout is not a terminal)
  --config <arc.conf>    where to read server.port when --url is not given

  -h, --help             show this text

On a terminal, a progress bar shows the bytes sent of the file's size, the rate and the time left.
${exitCodesText('every file was imported (rows the server rejected are listed)', 'a file could not be read, the server refused it or could not be reached')}`;

const OPTIONS = {
  ...SERVER_OPTIONS,
  database: { type: 'string' },
  format: { type: 'string' },
  measurement: { type: 'string' },
  'time-column': { type: 'string' },
  'time-format': { type: 'string' },
  'tag-columns': { type: 'string' },
  delimiter: { type: 'string' },
  precision: { type: 'string' },
} as const;

export const IMPORT_FILE_FORMATS = ['lp', 'csv', 'parquet'] as const;
export type ImportFileFormat = (typeof IMPORT_FILE_FORMATS)[number];

const FORMAT_BY_EXTENSION: Readonly<Record<string, ImportFileFormat>> = { '.lp': 'lp', '.txt': 'lp', '.line': 'lp', '.csv': 'csv', '.parquet': 'parquet' };

/** The format a file's name says: its extension, under a `.gz` (sent as it is: the server decompresses gzip files). */
function formatOfName(name: string): ImportFileFormat | undefined {
  const lower = name.toLowerCase();
  return FORMAT_BY_EXTENSION[path.extname(lower.endsWith('.gz') ? lower.slice(0, -'.gz'.length) : lower)];
}

export interface ImportOptions extends ServerTarget {
  readonly source: string;
  readonly database: string;
  readonly format: ImportFileFormat | null;
  /** The query parameters passed as they are (measurement, time_column, ...). */
  readonly parameters: Readonly<Record<string, string>>;
}

export function parseImportArgs(args: readonly string[], env: NodeJS.ProcessEnv): ImportOptions {
  const { values, positionals } = parseCommandArgs({ args: [...args], options: OPTIONS, allowPositionals: true, strict: true });
  if (positionals.length !== 1 || positionals[0] === undefined) throw new CommandUsageError('name one file, directory or URL to import');
  if (values.database === undefined || values.database === '') throw new CommandUsageError("option '--database' is required");
  const format = values.format ?? null;
  if (format !== null && !(IMPORT_FILE_FORMATS as readonly string[]).includes(format)) throw new CommandUsageError(`--format must be lp, csv or parquet, not '${format}'`);
  const parameters: Record<string, string> = {};
  const named: [keyof typeof values, string][] = [['measurement', 'measurement'], ['time-column', 'time_column'], ['time-format', 'time_format'], ['tag-columns', 'tag_columns'], ['delimiter', 'delimiter'], ['precision', 'precision']];
  for (const [option, parameter] of named) {
    const value = values[option];
    if (typeof value === 'string') parameters[parameter] = value;
  }
  return { ...serverTargetOf(values, env), source: positionals[0], database: values.database, format: format as ImportFileFormat | null, parameters };
}

/** The files of the source: itself, or the files of a directory whose extension names a format, sorted. */
async function filesOf(source: string): Promise<string[]> {
  if (isUrl(source)) return [source];
  const info = await stat(source).catch(() => null);
  if (info === null) throw new ServerRequestError(`cannot read '${source}': no such file or directory`);
  if (!info.isDirectory()) return [source];
  const names = (await readdir(source)).filter((name) => formatOfName(name) !== undefined).sort();
  return names.map((name) => path.join(source, name));
}

function isUrl(source: string): boolean {
  return /^https?:\/\//i.test(source);
}

function formatOf(file: string, format: ImportFileFormat | null): ImportFileFormat {
  if (format !== null) return format;
  const detected = formatOfName(isUrl(file) ? new URL(file).pathname : file);
  if (detected === undefined) throw new CommandUsageError(`cannot tell the format of '${file}' from its extension: pass --format`);
  return detected;
}

/**
 * `cpu.lp [##........] 25% 47.7 MiB/190.7 MiB, 4.8 MiB/s, 30s left`: the bytes sent of the file's
 * size (a URL without Content-Length: the bytes and the rate alone). Rows are counted by the
 * server, which answers them once the file is in; the summary line gives rows and rows/s.
 */
export function importProgressLine(file: string, sentBytes: number, totalBytes: number | null, elapsedMs: number): string {
  const rate = elapsedMs > 0 ? sentBytes / (elapsedMs / 1000) : 0;
  const name = path.basename(isUrl(file) ? new URL(file).pathname : file);
  if (totalBytes === null) return `${name} ${formatBytes(sentBytes)}, ${formatBytes(rate)}/s`;
  const fraction = totalBytes === 0 ? 1 : sentBytes / totalBytes;
  const left = sentBytes >= totalBytes ? 'waiting for the server' : rate > 0 ? `${formatSeconds((totalBytes - sentBytes) / rate)} left` : '';
  return `${name} ${progressCells(fraction)} ${String(Math.floor(fraction * 100))}% ${formatBytes(sentBytes)}/${formatBytes(totalBytes)}, ${formatBytes(rate)}/s${left === '' ? '' : `, ${left}`}`;
}

interface FileAnswer {
  readonly status: number;
  readonly text: string;
}

/** A source opened for reading: its bytes as a stream, and its size when known (null: a URL without Content-Length). */
interface OpenedSource {
  readonly reader: Readable;
  readonly totalBytes: number | null;
}

/** A file streamed from disk, or a URL's answer streamed as it downloads (never held whole). */
async function openSource(source: string): Promise<OpenedSource> {
  if (!isUrl(source)) return { reader: createReadStream(source), totalBytes: (await stat(source)).size };
  let response: Response;
  try {
    response = await fetch(source);
  } catch (error) {
    throw new ServerRequestError(`cannot download '${source}': ${(error as Error).message}`);
  }
  if (response.status !== 200 || response.body === null) throw new ServerRequestError(`cannot download '${source}': it answered ${String(response.status)}`);
  const length = Number(response.headers.get('content-length') ?? '');
  return { reader: Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>), totalBytes: Number.isFinite(length) && length > 0 ? length : null };
}

/** POSTs the source as the raw body, streamed; `onSent` sees the bytes sent so far. */
function postFile(url: URL, token: string | null, file: string, reader: Readable, onSent: (bytes: number) => void): Promise<FileAnswer> {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream', ...(token === null ? {} : { authorization: `Bearer ${token}` }) };
    const request = send(url, { method: 'POST', headers, agent: false }, (response: IncomingMessage) => {
      const pieces: Buffer[] = [];
      response.on('data', (piece: Buffer) => pieces.push(piece));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(pieces).toString('utf8') }));
      response.on('error', reject);
    });
    request.on('error', (error: Error & { code?: string }) => reject(new ServerRequestError(`cannot reach ${url.origin}: ${error.code ?? error.message}`)));
    let sent = 0;
    reader.on('data', (piece: Buffer) => {
      sent += piece.length;
      onSent(sent);
    });
    reader.on('error', (error) => {
      request.destroy();
      reject(new ServerRequestError(`cannot read '${file}': ${error.message}`));
    });
    reader.pipe(request);
  });
}

async function importFile(options: ImportOptions, baseUrl: string, file: string, io: ServerCommandIo, showProgress: boolean): Promise<unknown> {
  const format = formatOf(file, options.format);
  const url = new URL(`/api/v1/import/${format}`, baseUrl);
  url.searchParams.set('db', options.database);
  for (const [name, value] of Object.entries(options.parameters)) url.searchParams.set(name, value);
  const { reader, totalBytes } = await openSource(file);
  const startedMs = Date.now();
  let sentBytes = 0;
  // The rate is the sending's: once every byte is sent it stays as it was while the server finishes.
  let sentAllMs: number | null = null;
  const timer = showProgress ? setInterval(() => io.stderr.write(redrawnLine(importProgressLine(file, sentBytes, totalBytes, (sentAllMs ?? Date.now()) - startedMs))), IMPORT_PROGRESS_INTERVAL_MS) : null;
  try {
    const answer = await postFile(url, options.token, file, reader, (bytes) => {
      sentBytes = bytes;
      if (totalBytes !== null && bytes >= totalBytes) sentAllMs ??= Date.now();
    });
    const json = parseJson(answer.text);
    if (answer.status >= 200 && answer.status < 300) return json;
    const body = (typeof json === 'object' && json !== null ? json : {}) as { error?: unknown; code?: unknown };
    throw new ServerRefusalError('POST', `${url.pathname} (${file})`, answer.status, typeof body.error === 'string' ? body.error : answer.text, typeof body.code === 'string' ? body.code : null);
  } finally {
    if (timer !== null) {
      clearInterval(timer);
      io.stderr.write('\r\x1b[K');
    }
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

interface ImportResultJson {
  readonly rows_imported: number;
  readonly rows_rejected: number;
  readonly bytes: number;
  readonly duration_ms: number;
  readonly errors: readonly { readonly line: number; readonly error: string }[];
}

/** The text a person reads of one file's answer. */
export function formatImportAnswer(file: string, result: ImportResultJson): string {
  const seconds = result.duration_ms / 1000;
  const rate = seconds > 0 ? Math.round(result.rows_imported / seconds) : result.rows_imported;
  const lines = [`${file}: ${String(result.rows_imported)} rows imported, ${String(result.rows_rejected)} rejected, ${(result.bytes / 1e6).toFixed(1)} MB in ${seconds.toFixed(1)} s (${String(rate)} rows/s)`];
  for (const error of result.errors) lines.push(`  line ${String(error.line)}: ${error.error}`);
  return `${lines.join('\n')}\n`;
}

export type ImportIo = ServerCommandIo & { readonly stdoutIsTTY: boolean };

/** `arc import <file|dir|url> ...`, or `arc import influx|postgres ...` (import-job-command.ts). */
export async function importCommand(args: readonly string[], io: ImportJobIo): Promise<number> {
  if (isImportJobSource(args[0])) return importJobCommand(args, io);
  return runServerCommand('import', IMPORT_USAGE, args, io, async () => {
    const options = parseImportArgs(args, io.env);
    const baseUrl = serverUrlOf(options.url, options.configPath);
    const files = await filesOf(options.source);
    if (files.length === 0) throw new ServerRequestError(`'${options.source}' holds no .lp, .txt, .csv or .parquet file (or one of them .gz)`);
    const asJson = options.json || !io.stdoutIsTTY;
    const results: unknown[] = [];
    for (const file of files) {
      const answer = (await importFile(options, baseUrl, file, io, io.stderrIsTTY)) as { result?: ImportResultJson } | null;
      if (answer?.result === undefined) return EXIT_FAILED;
      results.push({ file, ...answer.result });
      if (!asJson) io.stdout.write(formatImportAnswer(file, answer.result));
    }
    if (asJson) io.stdout.write(`${JSON.stringify(files.length === 1 ? results[0] : { files: results })}\n`);
    return EXIT_OK;
  });
}
