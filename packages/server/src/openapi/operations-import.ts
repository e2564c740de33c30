import { z } from 'zod';
import type { ApiOperation } from './api-operation.js';

/**
 * File imports (README "Importing data", import-routes.ts): Arc Go's routes, streamed through the
 * ingest pipeline in chunks.
 */

const databaseParameters = {
  db: z.string().optional().meta({ description: 'The database (or the `x-arc-database` header, which wins). Required.' }),
};

const lineProtocolQuery = z.object({
  ...databaseParameters,
  precision: z.enum(['ns', 'n', 'u', 'us', 'ms', 's', 'm', 'h']).optional().meta({ description: 'Unit of the timestamps (default ns), as for POST /write.' }),
  measurement: z.string().optional().meta({ description: "Only this measurement's lines are imported (Arc Go's filter); the others are counted in `rows_skipped`. None matching: 400." }),
});

const tableQuery = z.object({
  ...databaseParameters,
  measurement: z.string().meta({ description: 'Measurement the rows go to. Required.' }),
  time_column: z.string().optional().meta({ description: "The column holding each row's time (default `time`)." }),
  time_format: z.enum(['epoch_s', 'epoch_ms', 'epoch_us', 'epoch_ns', 'rfc3339']).optional().meta({ description: 'How the time column is written; left out, numbers are read by magnitude (s, ms, us, ns) and text as RFC 3339 / ISO 8601.' }),
  tag_columns: z.string().optional().meta({ description: 'Comma-separated columns stored as tags; every other column is a field.' }),
});

const csvQuery = tableQuery.extend({
  delimiter: z.string().optional().meta({ description: 'CSV: one character (default `,`).' }),
  skip_rows: z.string().optional().meta({ description: 'CSV: lines skipped before the header (default 0).' }),
});

const rowErrorSchema = z.object({
  line: z.number().int().meta({ description: 'Line of the file (line protocol), or data row (CSV and Parquet, the header not counted).' }),
  code: z.string(),
  error: z.string(),
});

const summaryFields = {
  database: z.string(),
  rows_imported: z.number().int().meta({ description: 'Rows acknowledged by ingest (in the WAL when it is on), flushed to Parquet before the answer.' }),
  rows_rejected: z.number().int(),
  errors: z.array(rowErrorSchema).meta({ description: 'The first rejected rows (at most 10).' }),
  bytes: z.number().int().meta({ description: 'Bytes of the upload received.' }),
  duration_ms: z.number().int(),
};

const lineProtocolAnswer = z.object({
  status: z.literal('ok'),
  result: z.object({
    ...summaryFields,
    precision: z.string(),
    measurement: z.string().optional().meta({ description: 'The `measurement` filter, when given.' }),
    rows_skipped: z.number().int().optional().meta({ description: "With the `measurement` filter: lines of other measurements, not imported." }),
  }),
});
const tableAnswer = z.object({ status: z.literal('ok'), result: z.object({ ...summaryFields, measurement: z.string(), columns: z.array(z.string()) }) });

const description =
  'Admin only. The file is the request body, raw or as the `file` field of multipart/form-data (`curl -F file=@data`), streamed: it is never held whole in memory. ' +
  'A gzip file is taken as it is (found by its magic bytes) or with `Content-Encoding: gzip`, and decompressed as it arrives (bounded like an uncompressed file). ' +
  'It goes through the ingest pipeline in chunks of about 4 MiB, like write requests (same validation, WAL and atomicity per chunk). A bad row is rejected by its line and the rest imported; ' +
  'past 1,000 rejected rows, or when no row is good, the answer is a 4xx naming the first bad line, carrying `rows_imported` so far (those rows stay).';

const fileBody = (mediaType: string, what: string) => ({ required: true, description: what, content: { [mediaType]: 'binary' as const, 'multipart/form-data': 'binary' as const } });

export const IMPORT_OPERATIONS: readonly ApiOperation[] = [
  {
    method: 'post',
    paths: ['/api/v1/import/lp'],
    id: 'importLineProtocol',
    tag: 'import',
    summary: 'Import a line protocol file',
    description: `${description} Line protocol is cut at line breaks as it arrives (no size bound but a 64 GiB guard).`,
    access: 'admin',
    query: lineProtocolQuery,
    body: fileBody('text/plain', 'InfluxDB line protocol, one point per line.'),
    responses: { 200: { description: 'Imported.', content: { 'application/json': lineProtocolAnswer } } },
    errors: [400, 408, 500, 503],
  },
  {
    method: 'post',
    paths: ['/api/v1/import/csv'],
    id: 'importCsv',
    tag: 'import',
    summary: 'Import a CSV file',
    description: `${description} CSV is spooled to the data directory (at most 2 GiB) and read by DuckDB, which detects the column types; the first line is the header.`,
    access: 'admin',
    query: csvQuery,
    body: fileBody('text/csv', 'CSV with a header line.'),
    responses: { 200: { description: 'Imported.', content: { 'application/json': tableAnswer } } },
    errors: [400, 408, 500, 503],
  },
  {
    method: 'post',
    paths: ['/api/v1/import/parquet'],
    id: 'importParquet',
    tag: 'import',
    summary: 'Import a Parquet file',
    description: `${description} Parquet is spooled to the data directory (at most 2 GiB: its footer is at the end) and read by DuckDB batch by batch.`,
    access: 'admin',
    query: tableQuery,
    body: fileBody('application/vnd.apache.parquet', 'A Parquet file.'),
    responses: { 200: { description: 'Imported.', content: { 'application/json': tableAnswer } } },
    errors: [400, 408, 500, 503],
  },
];
