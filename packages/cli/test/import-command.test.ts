// Proves `arc import` and `arc export` parse their options (required ones named, formats checked),
// and, against a node:http server in the test playing the import routes, that `arc import` sends
// the file's bytes unchanged to the route of its format with the parameters as query string and
// the token as Bearer, prints the answer as JSON (or a line a person reads), exits 1 naming the
// server's code on a refusal and 2 on a bad command line; and that the progress line reads right.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseExportArgs, timeRangeWhere } from '../src/export-command.js';
import { formatImportAnswer, importCommand, importProgressLine, parseImportArgs, type ImportIo } from '../src/import-command.js';
import { startFakeArc } from './support/fake-arc.js';

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'arc-import-cmd-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

function io(stdoutIsTTY = false) {
  const out: string[] = [];
  const err: string[] = [];
  const streams: ImportIo = { stdout: { write: (text: string) => out.push(text) }, stderr: { write: (text: string) => err.push(text) }, stderrIsTTY: false, stdoutIsTTY, env: { ARC_TOKEN: 'env-token' } };
  return { out, err, io: streams };
}

const RESULT = { database: 'db', rows_imported: 2, rows_rejected: 1, bytes: 30, duration_ms: 2000, errors: [{ line: 3, code: 'ARC_LP_PARSE', error: 'unable to parse' }] };

describe('parseImportArgs / parseExportArgs', () => {
  it('reads the options and passes the table ones as the routes name them', () => {
    expect(parseImportArgs(['data.csv', '--database', 'db', '--measurement', 'm', '--time-column', 'ts', '--time-format', 'epoch_ms', '--tag-columns', 'a,b', '--delimiter', ';'], { ARC_TOKEN: 't' })).toMatchObject({
      source: 'data.csv',
      database: 'db',
      token: 't',
      format: null,
      parameters: { measurement: 'm', time_column: 'ts', time_format: 'epoch_ms', tag_columns: 'a,b', delimiter: ';' },
    });
    expect(() => parseImportArgs(['x.lp'], {})).toThrow("option '--database' is required");
    expect(() => parseImportArgs(['--database', 'db'], {})).toThrow('name one file, directory or URL');
    expect(() => parseImportArgs(['x', '--database', 'db', '--format', 'xml'], {})).toThrow('--format must be lp, csv or parquet');
    expect(() => parseExportArgs(['--database', 'db', '--measurement', 'm', '--output', 'o'], {})).toThrow("option '--format' is required");
    expect(() => parseExportArgs(['--database', 'db', '--measurement', 'm', '--output', 'o', '--format', 'lp', '--start', 'yesterday'], {})).toThrow('RFC 3339');
    expect(timeRangeWhere('2025-01-01T00:00:00.000Z', null)).toBe("time >= '2025-01-01T00:00:00.000Z'");
    expect(timeRangeWhere(null, null)).toBe('');
  });

  it('draws progress as a bar of the bytes sent, with the rate and the time left', () => {
    const mib = 1024 * 1024;
    expect(importProgressLine('/x/cpu.lp', 50 * mib, 200 * mib, 10_000)).toBe('cpu.lp [##........] 25% 50.0 MiB/200.0 MiB, 5.0 MiB/s, 30s left');
    expect(importProgressLine('cpu.lp', 200 * mib, 200 * mib, 10_000)).toBe('cpu.lp [##########] 100% 200.0 MiB/200.0 MiB, 20.0 MiB/s, waiting for the server');
    expect(importProgressLine('https://host/data/cpu.lp?sig=x', 3 * mib, null, 1000)).toBe('cpu.lp 3.0 MiB, 3.0 MiB/s');
    expect(formatImportAnswer('cpu.lp', RESULT)).toBe('cpu.lp: 2 rows imported, 1 rejected, 0.0 MB in 2.0 s (1 rows/s)\n  line 3: unable to parse\n');
  });
});

describe('arc import against a fake server', () => {
  it('streams the file unchanged to its format\'s route and prints the answer as JSON', async () => {
    const file = path.join(directory, 'cpu.lp');
    const content = 'cpu v=1 1\ncpu v=2 2\nbad line\n';
    await writeFile(file, content);
    const arc = await startFakeArc(() => ({ status: 200, json: { status: 'ok', result: RESULT } }));
    const { out, err, io: streams } = io();
    const code = await importCommand([file, '--database', 'db', '--precision', 's', '--url', arc.url], streams);
    expect([code, err.join('')]).toEqual([0, '']);
    expect(arc.requests).toHaveLength(1);
    const [request] = arc.requests;
    expect(request?.url).toBe('/api/v1/import/lp?db=db&precision=s');
    expect(request?.headers.authorization).toBe('Bearer env-token');
    expect(request?.body).toBe(content);
    expect(JSON.parse(out.join(''))).toEqual({ file, ...RESULT });
  });

  it('exits 1 with the server\'s reason and code when it refuses', async () => {
    const file = path.join(directory, 'w.csv');
    await writeFile(file, 'a,b\n1,2\n');
    const arc = await startFakeArc(() => ({ status: 400, json: { error: "time column 'time' not found in the file", code: 'ARC_IMPORT_BAD_PARAMETER' } }));
    const { err, io: streams } = io(true);
    const code = await importCommand([file, '--database', 'db', '--measurement', 'm', '--url', arc.url], streams);
    expect(code).toBe(1);
    expect(arc.requests[0]?.url).toBe('/api/v1/import/csv?db=db&measurement=m');
    expect(err.join('')).toMatch(/^arc import: POST \/api\/v1\/import\/csv \(.*w\.csv\) answered 400: time column 'time' not found in the file \(ARC_IMPORT_BAD_PARAMETER\)\n$/);
  });

  it('downloads a URL and sends it as it arrives, the format from the URL\'s path', async () => {
    const source = await startFakeArc(() => ({ status: 200, json: null }));
    const arc = await startFakeArc(() => ({ status: 200, json: { status: 'ok', result: RESULT } }));
    // The fake answers JSON: the "file" it serves is the text `null`, which is what must arrive.
    const { err, io: streams } = io();
    const code = await importCommand([`${source.url}/exports/w.csv?sig=1`, '--database', 'db', '--measurement', 'm', '--url', arc.url], streams);
    expect([code, err.join('')]).toEqual([0, '']);
    expect(arc.requests[0]?.url).toBe('/api/v1/import/csv?db=db&measurement=m');
    expect(arc.requests[0]?.body).toBe('null');
  });

  it('exits 2 for a file whose format its extension does not tell', async () => {
    const file = path.join(directory, 'data.bin');
    await writeFile(file, 'x');
    const { err, io: streams } = io();
    expect(await importCommand([file, '--database', 'db', '--url', 'http://127.0.0.1:9'], streams)).toBe(2);
    expect(err.join('')).toContain('pass --format');
  });
});
