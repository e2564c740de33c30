import {
  HTTP_JSON_EXPORT_BYTES_MAX,
  HTTP_JSON_EXPORT_DURATION_MS_MAX,
  HTTP_JSON_EXPORT_PAGE_BYTES_MAX,
  HTTP_JSON_EXPORT_PAGES_MAX,
  HTTP_JSON_EXPORT_ROWS_MAX,
  HttpJsonErrorCode,
} from '@arc/importer';
import { z } from 'zod';
import { httpJsonConnectionDiscoverBodySchema, httpJsonDiscoverBodySchema, httpJsonExportBodySchema } from '../http-json-routes.js';
import type { ApiOperation } from './api-operation.js';

/** HTTP JSON APIs as an import source (README "HTTP JSON APIs", http-json-routes.ts). */

const leafSchema = z.object({
  path: z.string().meta({ description: 'Relative to a record, e.g. `$.sensor.temp`.' }),
  types: z.array(z.enum(['string', 'number', 'boolean', 'null', 'array'])),
  samples: z.array(z.unknown()).meta({ description: 'Up to three distinct values.' }),
  present: z.number().int().meta({ description: 'Sampled records holding a value here.' }),
  distinct: z.number().int(),
});

const candidateSchema = z.object({
  records: z.string().meta({ description: 'The array as a `mapping.records` path, e.g. `$.data[*]`.' }),
  record_count: z.number().int(),
  sampled: z.number().int(),
  leaves: z.array(leafSchema),
  leaves_truncated: z.boolean(),
  suggested_mapping: z.object({
    records: z.string(),
    time: z.string().nullable().meta({ description: 'A leaf named time/timestamp/ts/date/datetime whose values parse as times; null when none.' }),
    measurement: z.string(),
    tags: z.record(z.string(), z.string()).meta({ description: 'Short strings with few distinct values.' }),
    fields: z.record(z.string(), z.string()).meta({ description: 'Numbers and booleans.' }),
  }),
});

const discoverAnswer = z.object({
  url: z.string(),
  status: z.number().int().meta({ description: "The API's HTTP status." }),
  bytes: z.number().int(),
  candidates: z.array(candidateSchema).meta({ description: 'Arrays of objects in the answer, most records first.' }),
});

const exportAnswer = z.object({
  database: z.string(),
  rows: z.number().int().meta({ description: 'Rows acknowledged by ingest, flushed before the answer.' }),
  rows_rejected: z.number().int(),
  pages: z.number().int().meta({ description: 'Answers fetched from the API.' }),
  errors: z.array(z.object({ line: z.number().int().meta({ description: 'The row, counted from 1 in the order read (each chunk sorted by time).' }), code: z.string(), error: z.string() })).meta({ description: 'The first rejected rows (at most 10).' }),
  duration_ms: z.number().int(),
});

const mib = (bytes: number): string => `${bytes / (1024 * 1024)} MiB`;

const discoverDescription =
  `Admin only. Fetches the first page (at most ${mib(HTTP_JSON_EXPORT_PAGE_BYTES_MAX)}) and lists the arrays of objects in it as \`records\` candidates, each with its leaf paths, JSON types and samples, and a suggested mapping. ` +
  'The API failing answers 400 (its 4xx, not JSON) or 503 (unreachable, 5xx), naming the step.';

export const HTTP_JSON_OPERATIONS: readonly ApiOperation[] = [
  {
    method: 'post',
    paths: ['/api/http-json/discover-schema'],
    id: 'discoverHttpJsonSchema',
    tag: 'import',
    summary: "Discover an HTTP JSON API's record arrays and a mapping",
    description: discoverDescription,
    access: 'admin',
    body: { required: true, content: { 'application/json': httpJsonDiscoverBodySchema } },
    responses: { 200: { description: 'The candidates.', content: { 'application/json': discoverAnswer } } },
    errors: [400, 408, 500, 503, 504],
  },
  {
    method: 'post',
    paths: ['/api/http-json/connections/{id}/discover-schema'],
    id: 'discoverHttpJsonConnectionSchema',
    tag: 'import',
    summary: "Discover a stored HTTP JSON connection's record arrays and a mapping",
    description: discoverDescription,
    access: 'admin',
    pathParameters: { id: z.string().meta({ description: 'The connection id.' }) },
    body: { required: false, content: { 'application/json': httpJsonConnectionDiscoverBodySchema } },
    responses: { 200: { description: 'The candidates.', content: { 'application/json': discoverAnswer } } },
    errors: [400, 404, 408, 500, 503, 504],
  },
  {
    method: 'post',
    paths: ['/api/http-json/export'],
    id: 'exportHttpJson',
    tag: 'import',
    summary: 'Import an HTTP JSON API once',
    description:
      'Admin only. Reads every page of the API through the mapping, then writes the rows through the ingest pipeline like a file import, and answers when they are flushed. ' +
      `Bounded: at most ${HTTP_JSON_EXPORT_PAGES_MAX} pages of at most ${mib(HTTP_JSON_EXPORT_PAGE_BYTES_MAX)}, ${HTTP_JSON_EXPORT_ROWS_MAX} rows, ${mib(HTTP_JSON_EXPORT_BYTES_MAX)} of line protocol and ${HTTP_JSON_EXPORT_DURATION_MS_MAX / 1000} s; beyond, 400 \`${HttpJsonErrorCode.exportTooLarge}\` (nothing written): use an import job. ` +
      `A record that does not fit the mapping (no time, a nested value at a field) answers 400 \`${HttpJsonErrorCode.badRecord}\` naming it; nothing is written.`,
    access: 'admin',
    body: { required: true, content: { 'application/json': httpJsonExportBodySchema } },
    responses: { 200: { description: 'Imported.', content: { 'application/json': exportAnswer } } },
    errors: [400, 404, 408, 500, 503, 504],
  },
];
