// Proves `arc import` and `arc export` against a real server: files (line protocol, CSV, a directory)
// (one gzip-compressed) are imported and read back by SQL; a measurement exported to Parquet, CSV and line protocol and
// imported into another database gives back the same rows (count and checksums, tags kept); a
// refused import exits 1 with the server's code.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArcClient } from '../../server/test/support/arc-client.js';
import { TEST_TOKEN, startArc, type ArcProcess } from '../../server/test/support/arc-process.js';
import { exportCommand } from '../src/export-command.js';
import { importCommand, type ImportIo } from '../src/import-command.js';

let arc: ArcProcess;
let directory: string;
beforeAll(async () => {
  arc = await startArc();
  directory = await mkdtemp(path.join(tmpdir(), 'arc-cli-import-'));
});
afterAll(async () => {
  await arc.stop();
  await arc.cleanup();
  await rm(directory, { recursive: true, force: true });
});

const BASE_S = Date.UTC(2025, 5, 1) / 1000;

async function run(command: typeof importCommand | typeof exportCommand, args: string[], stdoutIsTTY = false): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: ImportIo = { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text) }, stderrIsTTY: false, stdoutIsTTY, env: { ARC_TOKEN: TEST_TOKEN } };
  const code = await command([...args, '--url', arc.url], io);
  return { code, stdout, stderr };
}

/** count, sums and distinct tags of the cpu-like measurement `m` in `database`. */
async function fingerprint(client: ArcClient, database: string, measurement: string): Promise<unknown[]> {
  const [row] = await client.rows(`SELECT count(*), sum(usage), sum(n), count(DISTINCT host), min(time)::VARCHAR, max(time)::VARCHAR, max(note) FROM ${measurement}`, database);
  return row ?? [];
}

describe('arc import', () => {
  it('imports a line protocol file and prints a JSON summary when stdout is no terminal', async () => {
    const file = path.join(directory, 'cpu.lp');
    const lines = Array.from({ length: 3000 }, (_, row) => `cpu,host=h${row % 3} usage=${row}.5,n=${row}i,note="a \\"quoted\\" note ${row % 10}" ${(BASE_S + row) * 1e9}`);
    await writeFile(file, lines.join('\n') + '\n');
    const result = await run(importCommand, [file, '--database', 'src']);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ file, rows_imported: 3000, rows_rejected: 0 });
    expect(await fingerprint(new ArcClient(arc.url), 'src', 'cpu')).toEqual([3000, 4500000, 4498500, 3, '2025-06-01 00:00:00', '2025-06-01 00:49:59', 'a "quoted" note 9']);
  });

  it('imports every file of a directory, CSV with its options, and prints a line per file on a terminal', async () => {
    const dir = path.join(directory, 'many');
    await rm(dir, { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(dir));
    await writeFile(path.join(dir, 'a.csv'), `ts;station;temp\n${BASE_S};x;1.5\n${BASE_S + 1};y;2.5\n`);
    // A gzip file goes as it is: its format is the extension under .gz, the server decompresses it.
    await writeFile(path.join(dir, 'b.csv.gz'), gzipSync(`ts;station;temp\n${BASE_S + 2};x;3.5\n`));
    await writeFile(path.join(dir, 'ignored.md'), 'not data');
    const result = await run(importCommand, [dir, '--database', 'csvdir', '--measurement', 'weather', '--time-column', 'ts', '--time-format', 'epoch_s', '--tag-columns', 'station', '--delimiter', ';'], true);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/a\.csv: 2 rows imported, 0 rejected.*\n.*b\.csv\.gz: 1 rows imported, 0 rejected/);
    expect(await new ArcClient(arc.url).rows('SELECT count(*), sum(temp), count(DISTINCT station) FROM weather', 'csvdir')).toEqual([[3, 7.5, 2]]);
  });

  it('exits 1 with the server\'s code when the import is refused', async () => {
    const file = path.join(directory, 'bad.csv');
    await writeFile(file, 'a,b\n1,2\n');
    const result = await run(importCommand, [file, '--database', 'src', '--measurement', 'm']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("time column 'time' not found");
    expect(result.stderr).toContain('ARC_IMPORT_BAD_PARAMETER');
  });
});

describe('arc export', () => {
  for (const format of ['lp', 'csv', 'parquet'] as const) {
    it(`round-trips a measurement through ${format}`, async () => {
      const output = path.join(directory, `cpu.${format}`);
      const exported = await run(exportCommand, ['--database', 'src', '--measurement', 'cpu', '--format', format, '--output', output, '--json']);
      expect(exported.code, exported.stderr).toBe(0);
      expect(JSON.parse(exported.stdout)).toMatchObject({ rows: 3000, format });
      const target = `copy_${format}`;
      const tableOptions = format === 'lp' ? [] : ['--measurement', 'cpu', '--tag-columns', 'host'];
      const imported = await run(importCommand, [output, '--database', target, ...tableOptions]);
      expect(imported.code, imported.stderr).toBe(0);
      const client = new ArcClient(arc.url);
      expect(await fingerprint(client, target, 'cpu')).toEqual(await fingerprint(client, 'src', 'cpu'));
      const described = await client.query('DESCRIBE cpu', target);
      const { columns, data } = described.json() as { columns: string[]; data: unknown[][] };
      const tags = data.filter((row) => row[columns.indexOf('extra')] === 'tag').map((row) => row[columns.indexOf('column_name')]);
      expect(tags).toEqual(['host']);
    });
  }

  it('exports only the time range asked for', async () => {
    const output = path.join(directory, 'range.lp');
    const result = await run(exportCommand, ['--database', 'src', '--measurement', 'cpu', '--format', 'lp', '--output', output, '--start', '2025-06-01T00:10:00Z', '--end', '2025-06-01T00:20:00Z', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ rows: 600 });
  });
});
