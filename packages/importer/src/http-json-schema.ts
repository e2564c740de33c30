import { validateMeasurementName } from '@arc/columnar';
import { baseUrl, fetchPage } from './http-json-page.js';
import { parseSettings } from './http-json-settings.js';
import { timeNsOf } from './http-json-values.js';
import { pathText } from './json-path.js';
import { HTTP_JSON_DISCOVER_PAGE_BYTES_MAX, HTTP_JSON_SCHEMA_DEPTH_MAX, HTTP_JSON_SCHEMA_PATHS_MAX, HTTP_JSON_SCHEMA_RECORDS_SAMPLED, HTTP_JSON_TAG_CHARS_MAX, HTTP_JSON_TAG_DISTINCT_MAX } from './limits.js';
import type { SourceConnection } from './source.js';

/**
 * Schema discovery for an HTTP JSON API: the first page's answer is searched for arrays of
 * objects (the candidate `records`), and for each, the leaf paths of its records (relative to a
 * record) with their JSON types, sample values and distinct counts, and a suggested mapping:
 * time = a leaf named time/timestamp/ts/date/datetime whose values all parse as times; tags =
 * short strings with few distinct values; fields = numbers and booleans.
 */

export interface RecordArray {
  /** The array as a `records` path: `$.data[*]`. */
  readonly path: string;
  readonly records: readonly Record<string, unknown>[];
}

export type JsonType = 'string' | 'number' | 'boolean' | 'null' | 'array';

export interface LeafSummary {
  /** Relative to a record: `$.sensor.temp`. */
  readonly path: string;
  readonly types: JsonType[];
  /** Up to three distinct values seen. */
  readonly samples: unknown[];
  /** Records of the sample holding a value here (null included). */
  readonly present: number;
  readonly distinct: number;
}

export interface SuggestedMapping {
  readonly records: string;
  readonly time: string | null;
  readonly measurement: string;
  readonly tags: Record<string, string>;
  readonly fields: Record<string, string>;
}

export interface SchemaCandidate {
  readonly records: string;
  readonly record_count: number;
  readonly sampled: number;
  readonly leaves: LeafSummary[];
  /** More leaf paths than HTTP_JSON_SCHEMA_PATHS_MAX: the rest are not listed. */
  readonly leaves_truncated: boolean;
  readonly suggested_mapping: SuggestedMapping;
}

export interface DiscoveredSchema {
  readonly url: string;
  readonly status: number;
  readonly bytes: number;
  readonly candidates: SchemaCandidate[];
}

const SAMPLES_KEPT = 3;
const TIME_NAMES = new Set(['time', 'timestamp', 'ts', 'date', 'datetime']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Arrays of objects in `json`, outermost first, most records first; a record array's records are not searched further. */
export function findRecordArrays(json: unknown): RecordArray[] {
  const found: RecordArray[] = [];
  const visit = (node: unknown, parts: (string | number | null)[], depth: number): void => {
    if (depth > HTTP_JSON_SCHEMA_DEPTH_MAX) return;
    if (Array.isArray(node)) {
      const items = node as unknown[];
      if (items.length > 0 && items.every(isRecord)) {
        found.push({ path: pathText([...parts, null]), records: items });
        return;
      }
      items.slice(0, 1).forEach((item, index) => visit(item, [...parts, index], depth + 1));
      return;
    }
    if (isRecord(node)) for (const [name, child] of Object.entries(node)) visit(child, [...parts, name], depth + 1);
  };
  visit(json, [], 0);
  return found.sort((a, b) => b.records.length - a.records.length);
}

interface LeafStats {
  readonly parts: string[];
  readonly types: Set<JsonType>;
  readonly values: Set<string>;
  readonly samples: unknown[];
  present: number;
}

function jsonType(value: unknown): JsonType {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value === 'number' ? 'number' : typeof value === 'boolean' ? 'boolean' : 'string';
}

function collectLeaves(records: readonly Record<string, unknown>[]): { leaves: Map<string, LeafStats>; truncated: boolean } {
  const leaves = new Map<string, LeafStats>();
  let truncated = false;
  const visit = (node: unknown, parts: string[]): void => {
    if (isRecord(node) && parts.length < HTTP_JSON_SCHEMA_DEPTH_MAX) {
      for (const [name, child] of Object.entries(node)) visit(child, [...parts, name]);
      return;
    }
    const path = pathText(parts);
    let stats = leaves.get(path);
    if (stats === undefined) {
      if (leaves.size >= HTTP_JSON_SCHEMA_PATHS_MAX) {
        truncated = true;
        return;
      }
      stats = { parts, types: new Set(), values: new Set(), samples: [], present: 0 };
      leaves.set(path, stats);
    }
    stats.present += 1;
    stats.types.add(jsonType(node));
    const key = JSON.stringify(node);
    if (!stats.values.has(key) && stats.samples.length < SAMPLES_KEPT) stats.samples.push(node);
    stats.values.add(key);
  };
  for (const record of records) for (const [name, child] of Object.entries(record)) visit(child, [name]);
  return { leaves, truncated };
}

function onlyTypes(stats: LeafStats, allowed: readonly JsonType[]): boolean {
  const types = [...stats.types].filter((type) => type !== 'null');
  return types.length > 0 && types.every((type) => allowed.includes(type));
}

function isTimeLeaf(stats: LeafStats, records: readonly Record<string, unknown>[]): boolean {
  const name = stats.parts[stats.parts.length - 1]?.toLowerCase() ?? '';
  if (!TIME_NAMES.has(name) || !onlyTypes(stats, ['string', 'number'])) return false;
  const values = [...stats.values].map((text) => JSON.parse(text) as unknown).filter((value) => value !== null);
  return records.length > 0 && values.every((value) => typeof timeNsOf(value, null) === 'bigint');
}

function isTagLeaf(stats: LeafStats): boolean {
  if (!onlyTypes(stats, ['string'])) return false;
  const values = [...stats.values].map((text) => JSON.parse(text) as unknown);
  const short = values.every((value) => value === null || (typeof value === 'string' && value.length <= HTTP_JSON_TAG_CHARS_MAX));
  return short && stats.values.size <= HTTP_JSON_TAG_DISTINCT_MAX && (stats.present <= 1 || stats.values.size < stats.present);
}

/** `sensor.temp` -> `sensor_temp`: a column name from a leaf's path. */
function columnName(parts: readonly string[]): string {
  return parts.join('_').replace(/[^A-Za-z0-9_-]/g, '_');
}

function measurementName(recordsPath: string): string {
  const names = [...recordsPath.matchAll(/\.([A-Za-z_][A-Za-z0-9_]*)|\['((?:[^'\\]|\\.)*)'\]/g)].map((match) => match[1] ?? match[2] ?? '');
  const name = (names[names.length - 1] ?? '').replace(/[^A-Za-z0-9_-]/g, '_');
  return name !== '' && validateMeasurementName(name) === null ? name : 'http_json';
}

function candidateOf(array: RecordArray): SchemaCandidate {
  const sample = array.records.slice(0, HTTP_JSON_SCHEMA_RECORDS_SAMPLED);
  const { leaves, truncated } = collectLeaves(sample);
  const entries = [...leaves.entries()];
  const time = entries.find(([, stats]) => isTimeLeaf(stats, sample))?.[0] ?? null;
  const tags: Record<string, string> = {};
  const fields: Record<string, string> = {};
  for (const [path, stats] of entries) {
    if (path === time) continue;
    if (isTagLeaf(stats)) tags[columnName(stats.parts)] = path;
    else if (onlyTypes(stats, ['number', 'boolean'])) fields[columnName(stats.parts)] = path;
  }
  return {
    records: array.path,
    record_count: array.records.length,
    sampled: sample.length,
    leaves: entries.map(([path, stats]) => ({ path, types: [...stats.types], samples: stats.samples, present: stats.present, distinct: stats.values.size })),
    leaves_truncated: truncated,
    suggested_mapping: { records: array.path, time, measurement: measurementName(array.path), tags, fields },
  };
}

/** What discovery reads: the connection's URL, with a job's `path` and `query` when given. */
export interface DiscoverRequest {
  readonly path?: string;
  readonly query?: Readonly<Record<string, string>>;
}

/** Fetches the first page (at most HTTP_JSON_DISCOVER_PAGE_BYTES_MAX) and describes its record arrays. */
export async function discoverHttpJsonSchema(connection: SourceConnection, request: DiscoverRequest, signal: AbortSignal): Promise<DiscoveredSchema> {
  const settings = parseSettings(connection.settings);
  const url = baseUrl(settings, { path: request.path ?? '', query: request.query ?? {} });
  const answer = await fetchPage(settings, connection.secret, url, signal, HTTP_JSON_DISCOVER_PAGE_BYTES_MAX);
  return { url: `${url.origin}${url.pathname}`, status: answer.status, bytes: answer.bytes, candidates: findRecordArrays(answer.json).map(candidateOf) };
}
