import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ArcError, ErrorKind } from '@arc/errors';
import { HttpJsonErrorCode } from './http-json-error-codes.js';
import { baseUrl, fetchPage, recordsOf, type PageAnswer } from './http-json-page.js';
import { findRecordArrays } from './http-json-schema.js';
import { parseSettings, parseSource, type HttpJsonMapping, type HttpJsonSettings, type HttpJsonSource, type Pagination } from './http-json-settings.js';
import { fieldValueOf, tagTextOf, timeNsOf, timeText } from './http-json-values.js';
import { singularValue, type JsonPath } from './json-path.js';
import { lineOf, type FieldValue } from './line-protocol.js';
import { HTTP_JSON_PAGE_BYTES_MAX } from './limits.js';
import { SourceType, type ConnectionTestResult, type ReadOptions, type SourceChunk, type SourceConnection, type SourceDriver, type SourceReader } from './source.js';

/**
 * HTTP JSON APIs as an import source. A job reads the API page after page (pagination: page
 * numbers, offsets, a cursor token or a next link taken from each answer), maps each record of a
 * page to one row (mapping: records, time, measurement, tags, fields as JSONPaths) and cuts the
 * rows into chunks of one or more pages.
 *
 * Checkpoint (a chunk's cursor): the pagination state of the page the next row comes from (page
 * number, offset, cursor token or link) and how many of that page's records are already taken.
 * Reopened there, the reader fetches that page again and skips those records, so a row is never
 * read twice nor skipped, as long as the API answers the same page the same way.
 *
 * Time order: records are taken in the API's order; each chunk's rows are sorted by time, so
 * "time-ordered" holds within a chunk, not across chunks, for an API that does not answer in time order.
 * Rows outside the run's range are dropped here (`time_param` also asks the API to filter).
 */

/** Where the next page comes from. `null` token / link: the first page (the base URL). */
type PageState =
  | { readonly kind: 'none' }
  | { readonly kind: 'page'; readonly number: number }
  | { readonly kind: 'offset'; readonly offset: number }
  | { readonly kind: 'cursor'; readonly token: string | null }
  | { readonly kind: 'link'; readonly url: string | null };

/** A chunk's cursor as stored: the next page and the records of it already taken; `done` past the last page. */
type Position = { readonly page: PageState; readonly taken: number } | { readonly done: true };

interface Page {
  readonly state: PageState;
  readonly records: readonly Record<string, unknown>[];
  /** The page after this one, or null when this is the last. */
  readonly next: PageState | null;
  readonly bytes: number;
  readonly digest: string;
}

interface Row {
  readonly timeNs: bigint;
  readonly line: string;
  readonly measurement: string;
}

function firstState(pagination: Pagination): PageState {
  switch (pagination.type) {
    case 'none':
      return { kind: 'none' };
    case 'page':
      return { kind: 'page', number: pagination.start };
    case 'offset':
      return { kind: 'offset', offset: 0 };
    case 'cursor':
      return { kind: 'cursor', token: null };
    case 'link':
      return { kind: 'link', url: null };
  }
}

function describe(state: PageState): string {
  switch (state.kind) {
    case 'none':
      return 'the answer';
    case 'page':
      return `page ${state.number}`;
    case 'offset':
      return `the page at offset ${state.offset}`;
    case 'cursor':
      return state.token === null ? 'the first page' : `the page at cursor '${state.token}'`;
    case 'link':
      return state.url === null ? 'the first page' : `the page at ${state.url}`;
  }
}

function pageUrl(base: URL, pagination: Pagination, state: PageState): URL {
  if (state.kind === 'link' && state.url !== null) return new URL(state.url);
  const url = new URL(base);
  if (state.kind === 'page' && pagination.type === 'page') {
    url.searchParams.set(pagination.param, String(state.number));
    if (pagination.sizeParam !== null && pagination.size !== null) url.searchParams.set(pagination.sizeParam, String(pagination.size));
  } else if (state.kind === 'offset' && pagination.type === 'offset') {
    url.searchParams.set(pagination.param, String(state.offset));
    url.searchParams.set(pagination.limitParam, String(pagination.limit));
  } else if (state.kind === 'cursor' && pagination.type === 'cursor' && state.token !== null) {
    url.searchParams.set(pagination.param, state.token);
  }
  return url;
}

function badAnswer(message: string): ArcError {
  return new ArcError(ErrorKind.badRequest, HttpJsonErrorCode.badAnswer, message, { step: 'pagination' });
}

/** The page after `state`, read from its answer; null at the end. */
function nextState(pagination: Pagination, state: PageState, answer: PageAnswer, recordCount: number, base: URL): PageState | null {
  switch (pagination.type) {
    case 'none':
      return null;
    case 'page':
      assert.ok(state.kind === 'page', 'page state of page pagination');
      if (recordCount === 0 || (pagination.size !== null && recordCount < pagination.size)) return null;
      return { kind: 'page', number: state.number + 1 };
    case 'offset':
      assert.ok(state.kind === 'offset', 'offset state of offset pagination');
      if (recordCount === 0 || recordCount < pagination.limit) return null;
      return { kind: 'offset', offset: state.offset + recordCount };
    case 'cursor': {
      assert.ok(state.kind === 'cursor', 'cursor state of cursor pagination');
      const token = singularValue(pagination.next, answer.json);
      if (token === undefined || token === null || token === '' || token === false) return null;
      if (typeof token !== 'string' && typeof token !== 'number') throw badAnswer(`pagination.next '${pagination.next.text}' in ${describe(state)} is not a string or number`);
      if (String(token) === state.token) throw badAnswer(`pagination.next '${pagination.next.text}' in ${describe(state)} is the cursor it was read at: the API would answer it forever`);
      return { kind: 'cursor', token: String(token) };
    }
    case 'link':
      return nextLink(pagination.next, state, answer, base);
  }
}

/** A next link, resolved against the page's URL; it must stay on the API's origin (the secret goes with it). */
function nextLink(path: JsonPath, state: PageState, answer: PageAnswer, base: URL): PageState | null {
  const link = singularValue(path, answer.json);
  if (link === undefined || link === null || link === '') return null;
  if (typeof link !== 'string') throw badAnswer(`pagination.next '${path.text}' in ${describe(state)} is not a URL text`);
  let url: URL;
  try {
    url = new URL(link, answer.url);
  } catch {
    throw badAnswer(`pagination.next '${path.text}' in ${describe(state)}: '${link}' is not a URL`);
  }
  if (url.origin !== base.origin) throw badAnswer(`pagination.next in ${describe(state)} leads to ${url.origin}, not the API's ${base.origin}: the secret is not sent elsewhere`);
  if (url.href === answer.url.href) throw badAnswer(`pagination.next in ${describe(state)} is the page's own URL: the API would answer it forever`);
  return { kind: 'link', url: url.href };
}

/** Line protocol has no escape for a line break outside a quoted string field value. */
const LINE_BREAK = 'holds a line break, which a measurement or tag cannot carry';

function badRecord(where: string, field: string, message: string): ArcError {
  return new ArcError(ErrorKind.badRequest, HttpJsonErrorCode.badRecord, `${where}: ${field} ${message}`, { field });
}

function measurementOf(mapping: HttpJsonMapping, record: unknown, where: string): string {
  if ('name' in mapping.measurement) return mapping.measurement.name;
  const value = singularValue(mapping.measurement.path, record);
  if (typeof value !== 'string' || value === '') throw badRecord(where, `mapping.measurement '${mapping.measurement.path.text}'`, value === undefined ? 'is missing' : `is ${JSON.stringify(value)}, not a measurement name`);
  if (value.includes('\n')) throw badRecord(where, `mapping.measurement '${mapping.measurement.path.text}'`, LINE_BREAK);
  return value;
}

/** The record's row, or null when it stores nothing (outside the range, or no field value). */
export function rowOf(mapping: HttpJsonMapping, record: unknown, range: Pick<ReadOptions, 'startNs' | 'endNs'>, where: string): Row | null {
  const timeNs = timeNsOf(singularValue(mapping.time, record), mapping.timeFormat);
  if (typeof timeNs === 'string') throw badRecord(where, `mapping.time '${mapping.time.text}'`, timeNs);
  if ((range.startNs !== null && timeNs < range.startNs) || (range.endNs !== null && timeNs >= range.endNs)) return null;
  const measurement = measurementOf(mapping, record, where);
  const tags: (readonly [string, string])[] = [];
  for (const [name, path] of mapping.tags) {
    const text = tagTextOf(singularValue(path, record));
    if (text !== null && typeof text === 'object') throw badRecord(where, `tag '${name}' ('${path.text}')`, text.error);
    if (text?.includes('\n') === true) throw badRecord(where, `tag '${name}' ('${path.text}')`, LINE_BREAK);
    if (text !== null) tags.push([name, text]);
  }
  const fields: (readonly [string, FieldValue])[] = [];
  for (const field of mapping.fields) {
    const value = fieldValueOf(singularValue(field.path, record), field.type);
    if (value !== null && 'error' in value) throw badRecord(where, `field '${field.name}' ('${field.path.text}')`, value.error);
    if (value !== null) fields.push([field.name, value]);
  }
  const line = lineOf(measurement, tags, fields, timeNs);
  return line === null ? null : { timeNs, line, measurement };
}

const encoder = new TextEncoder();

/** Bounds of a reader beyond the job's: the one-shot export's (a job's reader has none but the page size). */
export interface HttpJsonReadLimits {
  readonly pageBytesMax: number;
  /** Fetching one page more is refused with ARC_IMPORT_EXPORT_TOO_LARGE; null: no bound. */
  readonly pagesMax: number | null;
}

const JOB_LIMITS: HttpJsonReadLimits = { pageBytesMax: HTTP_JSON_PAGE_BYTES_MAX, pagesMax: null };

/** Reads a job's pages into chunks; `pagesRead` counts the answers fetched (the one-shot export reports it). */
export class HttpJsonReader implements SourceReader {
  private readonly settings: HttpJsonSettings;
  private readonly secret: string | null;
  private readonly source: HttpJsonSource;
  private readonly pagination: Pagination;
  private readonly options: ReadOptions;
  private readonly base: URL;
  private readonly limits: HttpJsonReadLimits;
  private position: Position;
  private page: Page | null = null;
  pagesRead = 0;

  constructor(settings: HttpJsonSettings, secret: string | null, source: HttpJsonSource, cursor: string | null, options: ReadOptions, limits: HttpJsonReadLimits) {
    this.limits = limits;
    this.settings = settings;
    this.secret = secret;
    this.source = source;
    this.pagination = source.pagination ?? settings.pagination ?? { type: 'none' };
    this.options = options;
    this.base = withTimeParameters(baseUrl(settings, source), source, options);
    this.position = cursor === null ? { page: firstState(this.pagination), taken: 0 } : parsePosition(cursor);
  }

  private async fetch(state: PageState): Promise<Page> {
    if (this.limits.pagesMax !== null && this.pagesRead >= this.limits.pagesMax) {
      throw new ArcError(ErrorKind.badRequest, HttpJsonErrorCode.exportTooLarge, `The API has more than ${this.limits.pagesMax} pages for this import: make it an import job (POST /api/v1/jobs), which reads in the background and resumes where it stopped`, { limit_pages: this.limits.pagesMax });
    }
    const answer = await fetchPage(this.settings, this.secret, pageUrl(this.base, this.pagination, state), this.options.signal, this.limits.pageBytesMax);
    this.pagesRead += 1;
    const records = recordsOf(this.source.mapping.records, answer.json, describe(state));
    const digest = createHash('sha256').update(JSON.stringify(answer.json)).digest('hex');
    // An API that ignores the page or offset parameter answers the first page forever.
    if (this.page !== null && digest === this.page.digest && records.length > 0) throw badAnswer(`${describe(state)} answered exactly what ${describe(this.page.state)} did: does the API take the pagination parameters?`);
    return { state, records, next: nextState(this.pagination, state, answer, records.length, this.base), bytes: answer.bytes, digest };
  }

  async next(): Promise<SourceChunk | null> {
    const rows: Row[] = [];
    let bodyBytes = 0;
    let sourceBytes = 0;
    while (!('done' in this.position)) {
      const { page: state, taken } = this.position;
      if (this.page === null || JSON.stringify(this.page.state) !== JSON.stringify(state)) {
        this.page = await this.fetch(state);
        sourceBytes += this.page.bytes;
      }
      const { records } = this.page;
      let index = taken;
      for (; index < records.length; index++) {
        // A full chunk ends before the next record is read: its error, if any, belongs to the next chunk.
        if (rows.length >= this.options.chunkRowsMax) return this.endChunk(rows, state, index, sourceBytes);
        const row = rowOf(this.source.mapping, records[index], this.options, `record ${index} of ${describe(state)}`);
        if (row === null) continue;
        const lineBytes = Buffer.byteLength(row.line) + 1;
        if (rows.length > 0 && bodyBytes + lineBytes > this.options.chunkBytesMax) return this.endChunk(rows, state, index, sourceBytes);
        rows.push(row);
        bodyBytes += lineBytes;
      }
      this.position = this.page.next === null ? { done: true } : { page: this.page.next, taken: 0 };
      if (rows.length >= this.options.chunkRowsMax) break;
    }
    return rows.length === 0 ? null : chunkOf(rows, this.position, sourceBytes);
  }

  private endChunk(rows: Row[], state: PageState, taken: number, sourceBytes: number): SourceChunk {
    this.position = { page: state, taken };
    return chunkOf(rows, this.position, sourceBytes);
  }

  close(): Promise<void> {
    this.page = null;
    return Promise.resolve();
  }
}

function withTimeParameters(url: URL, source: HttpJsonSource, range: Pick<ReadOptions, 'startNs' | 'endNs'>): URL {
  const parameters = source.timeParameters;
  if (parameters === null) return url;
  if (parameters.start !== null && range.startNs !== null) url.searchParams.set(parameters.start, timeText(range.startNs, parameters.format));
  if (parameters.end !== null && range.endNs !== null) url.searchParams.set(parameters.end, timeText(range.endNs, parameters.format));
  return url;
}

function parsePosition(cursor: string): Position {
  const position = JSON.parse(cursor) as unknown;
  assert.ok(typeof position === 'object' && position !== null, 'a cursor this driver wrote');
  return position as Position;
}

function chunkOf(rows: Row[], position: Position, sourceBytes: number): SourceChunk {
  // Stable: rows with one time keep the API's order.
  rows.sort((a, b) => (a.timeNs < b.timeNs ? -1 : a.timeNs > b.timeNs ? 1 : 0));
  const first = rows[0];
  const last = rows[rows.length - 1];
  assert.ok(first !== undefined && last !== undefined, 'a chunk has rows');
  return {
    body: encoder.encode(rows.map((row) => `${row.line}\n`).join('')),
    rowCount: rows.length,
    minTimeNs: first.timeNs,
    maxTimeNs: last.timeNs,
    measurements: [...new Set(rows.map((row) => row.measurement))],
    cursor: JSON.stringify(position),
    sourceBytes,
    progress: null,
  };
}

/** Steps of test(): the first page of the settings' URL answers 2xx with JSON holding an array of objects. */
async function testConnection(connection: SourceConnection, signal: AbortSignal): Promise<ConnectionTestResult> {
  const settings = parseSettings(connection.settings);
  try {
    const answer = await fetchPage(settings, connection.secret, baseUrl(settings, { path: '', query: {} }), signal);
    const arrays = findRecordArrays(answer.json);
    const version = answer.server;
    if (arrays.length === 0) return { ok: false, version, detail: `records: ${settings.url.origin}${settings.url.pathname} answered ${answer.status} with JSON, but no array of objects in it (records)` };
    const listed = arrays.slice(0, 3).map((array) => `${array.path} (${array.records.length} records)`).join(', ');
    return { ok: true, version, detail: `${settings.url.origin}${settings.url.pathname} answered ${answer.status} with JSON; record arrays: ${listed}` };
  } catch (error) {
    if (!(error instanceof ArcError)) throw error;
    return { ok: false, version: null, detail: error.message };
  }
}

/** The settings' JSON as stored: checked, then given back as sent (the compiled form is rebuilt from it where used). */
function checkSettings(settings: unknown): Record<string, unknown> {
  parseSettings(settings);
  return { ...(settings as Record<string, unknown>) };
}

function checkJobSource(source: unknown): Record<string, unknown> {
  parseSource(source);
  return { ...(source as Record<string, unknown>) };
}

/** Opens a reader over a connection and a job source (also used by the one-shot export, which reads `pagesRead`). */
export function openHttpJsonReader(connection: SourceConnection, source: Readonly<Record<string, unknown>>, cursor: string | null, options: ReadOptions, limits: HttpJsonReadLimits = JOB_LIMITS): HttpJsonReader {
  return new HttpJsonReader(parseSettings(connection.settings), connection.secret, parseSource(source), cursor, options, limits);
}

export const HTTP_JSON_DRIVER: SourceDriver = {
  type: SourceType.httpJson,
  checkSettings,
  checkJobSource,
  test: testConnection,
  open: (connection, source, cursor, options) => Promise.resolve(openHttpJsonReader(connection, source, cursor, options)),
};
