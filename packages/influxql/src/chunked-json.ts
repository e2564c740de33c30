import assert from 'node:assert/strict';
import type { Statement } from './ast.js';
import { serializeSeries } from './influx-json.js';
import type { Series, StatementResult } from './series.js';
import type { EpochUnit } from './time-values.js';

/**
 * How InfluxDB 1.x splits a statement's answer under `chunked=true` (measured on influxd 1.6):
 * - `rows`: statements answered by its query engine (SELECT, SHOW SERIES, SHOW FIELD KEYS, the
 *   exact cardinalities): each series in pieces of at most `chunk_size` values; a piece that
 *   its series continues after has `"partial":true`, and every chunk of the statement but its
 *   last has `"partial":true` on the result;
 * - `series`: SHOW TAG KEYS and SHOW TAG VALUES: one chunk per series, whole, no `partial`;
 * - `whole`: the other SHOW statements: one chunk.
 */
export type ChunkStyle = 'rows' | 'series' | 'whole';

export function chunkStyleOf(statement: Statement): ChunkStyle {
  switch (statement.kind) {
    case 'showTagKeys':
    case 'showTagValues':
      return 'series';
    case 'showDatabases':
    case 'showRetentionPolicies':
    case 'showMeasurements':
    case 'createDatabase':
      return 'whole';
    default:
      return 'rows';
  }
}

interface Piece {
  readonly series: Series;
  readonly seriesPartial: boolean;
}

function piecesOf(series: readonly Series[], style: ChunkStyle, chunkSize: number): Piece[][] {
  if (style === 'whole') return [series.map((one) => ({ series: one, seriesPartial: false }))];
  if (style === 'series') return series.map((one) => [{ series: one, seriesPartial: false }]);
  const chunks: Piece[][] = [];
  for (const one of series) {
    const count = Math.max(1, Math.ceil(one.values.length / chunkSize));
    for (let index = 0; index < count; index++) {
      const values = one.values.slice(index * chunkSize, (index + 1) * chunkSize);
      chunks.push([{ series: { ...one, values }, seriesPartial: index < count - 1 }]);
    }
  }
  return chunks;
}

/**
 * InfluxDB's chunked answer: one JSON document per line, `{"results":[{"statement_id":N,...}]}`,
 * each statement's answer split as `styles[N]` says; a statement without series or with an
 * error is one document, as in the unchunked answer.
 */
export function serializeChunks(results: readonly StatementResult[], styles: readonly ChunkStyle[], epoch: EpochUnit | null, chunkSize: number): string {
  assert.ok(chunkSize > 0, 'chunk size must be positive');
  const documents: string[] = [];
  results.forEach((result, index) => {
    const head = `"statement_id":${String(index)}`;
    if ('error' in result) {
      documents.push(`{"results":[{${head},"error":${JSON.stringify(result.error)}}]}`);
      return;
    }
    if (result.series.length === 0) {
      documents.push(`{"results":[{${head}}]}`);
      return;
    }
    const chunks = piecesOf(result.series, styles[index] ?? 'whole', chunkSize);
    chunks.forEach((pieces, chunkIndex) => {
      const series = pieces.map((piece) => serializeSeries(piece.series, epoch, piece.seriesPartial)).join(',');
      const partial = styles[index] === 'rows' && chunkIndex < chunks.length - 1 ? ',"partial":true' : '';
      documents.push(`{"results":[{${head},"series":[${series}]${partial}}]}`);
    });
  });
  return documents.map((document) => `${document}\n`).join('');
}
