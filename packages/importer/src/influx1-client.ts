import { parseJsonExact } from './exact-json.js';
import { answerText, fetchOrConnectError, sourceError } from './influx-http.js';

/**
 * InfluxQL over InfluxDB 1.x's HTTP API (`POST /query`, form-encoded, `epoch=ns`), read with
 * parseJsonExact so int64 values and ns timestamps keep every digit. Failures are ArcErrors whose
 * message starts with the step that failed: `connect:`, `authenticate:` or `query:`.
 */

export interface Influx1Server {
  readonly url: string;
  readonly database: string;
  readonly username: string | null;
  readonly password: string | null;
}

/** One series of an answer, its pieces (a chunked answer sends a series in several) joined. */
export interface InfluxqlSeries {
  readonly name: string;
  readonly columns: readonly string[];
  readonly values: readonly (readonly unknown[])[];
}

export interface InfluxqlAnswer {
  readonly series: readonly InfluxqlSeries[];
  readonly bytes: number;
}

function authorization(server: Influx1Server): Record<string, string> {
  if (server.username === null) return {};
  const credentials = Buffer.from(`${server.username}:${server.password ?? ''}`).toString('base64');
  return { authorization: `Basic ${credentials}` };
}

/** An InfluxQL identifier in double quotes (names may hold spaces, commas, quotes). */
export function influxqlIdentifier(name: string): string {
  return `"${name.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** A series as the answer spells it: `values` is left out when it has none. */
interface SeriesPiece {
  readonly name?: string;
  readonly columns: readonly string[];
  readonly values?: readonly (readonly unknown[])[];
}

interface StatementResult {
  readonly error?: string;
  readonly series?: readonly SeriesPiece[];
}

/** The statement's series from the answer's JSON objects (one per line when chunked), pieces of a series joined. */
function seriesOf(text: string, statement: string): InfluxqlSeries[] {
  const joined: InfluxqlSeries[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const body = parseJsonExact(line) as { error?: string; results?: readonly StatementResult[] };
    if (body.error !== undefined) throw sourceError(`query: ${body.error} (${statement})`);
    for (const result of body.results ?? []) {
      if (result.error !== undefined) throw sourceError(`query: ${result.error} (${statement})`);
      for (const piece of result.series ?? []) {
        const last = joined[joined.length - 1];
        // Some answers' series have no name (SHOW RETENTION POLICIES): '' (a string, so an empty
        // `joined` never matches it).
        const name = piece.name ?? '';
        if (last?.name === name && last.columns.join('\0') === piece.columns.join('\0')) {
          joined[joined.length - 1] = { ...last, values: [...last.values, ...(piece.values ?? [])] };
        } else {
          joined.push({ name, columns: piece.columns, values: piece.values ?? [] });
        }
      }
    }
  }
  return joined;
}

/** Runs one InfluxQL statement against the server's database; `chunkRows` asks for a chunked answer. */
export async function influxql(server: Influx1Server, statement: string, signal: AbortSignal, chunkRows: number | null = null): Promise<InfluxqlAnswer> {
  const form = new URLSearchParams({ db: server.database, q: statement, epoch: 'ns' });
  if (chunkRows !== null) {
    form.set('chunked', 'true');
    form.set('chunk_size', String(chunkRows));
  }
  const response = await fetchOrConnectError(`${server.url}/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', ...authorization(server) },
    body: form.toString(),
    signal,
  });
  const text = await answerText(response);
  if (response.status === 401 || response.status === 403) {
    throw sourceError(`authenticate: InfluxDB refused ${server.username === null ? 'a request without credentials' : `user '${server.username}'`} (${String(response.status)}: ${text.trim()})`);
  }
  if (response.status !== 200) throw sourceError(`query: InfluxDB answered ${String(response.status)}: ${text.trim()} (${statement})`);
  return { series: seriesOf(text, statement), bytes: Buffer.byteLength(text) };
}
