// Proves ParquetEncoder writes files a user reads back intact: batches built with BatchBuilder are
// encoded into a temp directory and read by a separate DuckDB instance with read_parquet (values
// of every type and NULLs, time order, one file per UTC hour, column types, footer metadata).
import { mkdirSync } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DuckDBConnection } from '@duckdb/node-api';
import { BatchBuilder, ColumnBuilder, ColumnRole, MICROS_PER_HOUR, quoteLiteral, type ColumnBatch, type SchemaColumn } from '@arc/columnar';
import { isArcError } from '@arc/errors';
import { LocalStorage } from '@arc/storage';
import { SEAL_CONCURRENCY_MAX } from '../src/limits.js';
import { ParquetEncoder, type EncodedHourFile, type ParquetEncoderOptions, type StagedFiles } from '../src/parquet-encoder.js';
import { mergeSchema } from '../src/schema-merge.js';
import { appendValue, openParquetReader, type ParquetReader, type Value } from './support/test-values.js';

interface Row {
  readonly timeUs: number;
  readonly tags?: Readonly<Record<string, string | null>>;
  readonly fields?: Readonly<Record<string, Value>>;
}

/** 2026-11-24T10:00:00Z in microseconds: the start of a UTC hour. */
const T0 = Date.UTC(2026, 10, 24, 10) * 1000;
const MINUTE_US = 60_000_000;

function columnOf(builder: BatchBuilder, name: string, role: ColumnRole): ColumnBuilder {
  const column = builder.column(name, role);
  if (!(column instanceof ColumnBuilder)) throw column;
  return column;
}

function batchOf(rows: readonly Row[], measurement = 'cpu'): ColumnBatch {
  const builder = new BatchBuilder();
  builder.reset('db', measurement);
  for (const row of rows) {
    const rowError = builder.beginRow(row.timeUs);
    if (rowError !== null) throw rowError;
    for (const [name, value] of Object.entries(row.tags ?? {})) appendValue(columnOf(builder, name, ColumnRole.tag), value);
    for (const [name, value] of Object.entries(row.fields ?? {})) appendValue(columnOf(builder, name, ColumnRole.field), value);
  }
  const batch = builder.pack();
  if (isArcError(batch)) throw batch;
  return batch;
}

function schemaOf(batches: readonly ColumnBatch[]): SchemaColumn[] {
  let schema: SchemaColumn[] = [];
  for (const batch of batches) {
    const merged = mergeSchema(schema, batch);
    if ('error' in merged) throw merged.error;
    schema = merged.schema;
  }
  return schema;
}

let root = '';
let testIndex = 0;
let encoder: ParquetEncoder;
let reader: DuckDBConnection;
let parquetReader: ParquetReader;

const baseOptions = (): ParquetEncoderOptions => ({
  staged: new LocalStorage(root),
  threads: 2,
  compression: 'snappy',
  rowGroupSize: 122_880,
  tempDirectory: join(root, 'duckdb-tmp'),
  memoryLimit: '512MB',
});

async function encode(batches: readonly ColumnBatch[], using = encoder): Promise<EncodedHourFile[]> {
  const dir = join(root, `t${testIndex++}`);
  // Writers stage in directories storage made; the encoder writes into existing ones.
  mkdirSync(dir, { recursive: true });
  return using.encode(batches, schemaOf(batches), (hourStartUs) => join(dir, `${hourStartUs}.parquet.tmp`));
}

async function rowsOf(sql: string): Promise<Record<string, unknown>[]> {
  return (await reader.runAndReadAll(sql)).getRowObjectsJS();
}

/** Rows of one file in file order, with `time` as bigint microseconds. */
async function fileRows(path: string): Promise<Record<string, unknown>[]> {
  return rowsOf(`SELECT epoch_us(time) AS time, * EXCLUDE (time) FROM read_parquet(${quoteLiteral(path)})`);
}

function onlyFile(files: readonly EncodedHourFile[]): EncodedHourFile {
  expect(files).toHaveLength(1);
  const file = files[0];
  if (file === undefined) throw new Error('no file');
  return file;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "arc-parquet-it's "));
  encoder = await ParquetEncoder.create(baseOptions());
  parquetReader = await openParquetReader();
  reader = parquetReader.connection;
});

afterAll(async () => {
  encoder.close();
  parquetReader.close();
  await rm(root, { recursive: true, force: true });
});

const STRINGS = [
  '',
  'a',
  'héllo',
  '日本語のテキスト',
  '🚀 rocket',
  'exactly12byt',
  'thirteen byte',
  'a longer string that lives in the string heap ✓',
  null,
  "it's",
  'x',
  'y',
] as const;
const DOUBLES = [0, 1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, null, 1e308, -2.5, 5e-324, 3, 4, -7];
const INTS = [0n, 1n, -1n, 2n ** 53n + 1n, -(2n ** 63n), 2n ** 63n - 1n, null, 42n, -(2n ** 53n) - 3n, 7n, 8n, 9n];
const BOOLS = [true, false, true, true, false, null, false, true, true, false, true, false];

function everyTypeRows(): Row[] {
  return STRINGS.map((s, row) => ({
    timeUs: T0 + row * MINUTE_US,
    tags: { host: `h${row % 3}`, region: row === 4 ? null : 'eu-west' },
    fields: { s, d: DOUBLES[row] ?? null, i: INTS[row] ?? null, b: BOOLS[row] ?? null },
  }));
}

describe('ParquetEncoder', () => {
  it('round-trips every type with NULLs, NaN, Infinity, int64 beyond 2^53, UTF-8 and bools', async () => {
    const file = onlyFile(await encode([batchOf(everyTypeRows())]));
    expect(file.hourStartUs).toBe(T0);
    expect(file.rowCount).toBe(STRINGS.length);
    const rows = await fileRows(file.path);
    expect(rows.map((row) => row['time'])).toEqual(STRINGS.map((_, row) => BigInt(T0 + row * MINUTE_US)));
    expect(rows.map((row) => row['s'])).toEqual([...STRINGS]);
    expect(rows.map((row) => row['d'])).toEqual(DOUBLES);
    expect(rows.map((row) => row['i'])).toEqual(INTS);
    expect(rows.map((row) => row['b'])).toEqual(BOOLS);
    expect(rows.map((row) => row['host'])).toEqual(STRINGS.map((_, row) => `h${row % 3}`));
    expect(rows.map((row) => row['region'])).toEqual(STRINGS.map((_, row) => (row === 4 ? null : 'eu-west')));
  });

  it('writes time as TIMESTAMP (micros, not adjusted to UTC), typed columns and the arc:tags footer', async () => {
    const file = onlyFile(await encode([batchOf(everyTypeRows())]));
    const path = quoteLiteral(file.path);
    const described = await rowsOf(`DESCRIBE SELECT * FROM read_parquet(${path})`);
    expect(described.map((row) => [row['column_name'], row['column_type']])).toEqual([
      ['time', 'TIMESTAMP'],
      ['host', 'VARCHAR'],
      ['region', 'VARCHAR'],
      ['s', 'VARCHAR'],
      ['d', 'DOUBLE'],
      ['i', 'BIGINT'],
      ['b', 'BOOLEAN'],
    ]);
    const [time] = await rowsOf(`SELECT logical_type FROM parquet_schema(${path}) WHERE name = 'time'`);
    expect(String(time?.['logical_type'])).toContain('isAdjustedToUTC=0');
    expect(String(time?.['logical_type'])).toContain('MICROS=MicroSeconds()');
    const kv = await rowsOf(`SELECT decode(key) AS key, decode(value) AS value FROM parquet_kv_metadata(${path})`);
    expect(kv).toEqual([{ key: 'arc:tags', value: '["host","region"]' }]);
    expect(file.byteCount).toBe((await stat(file.path)).size);
  });

  it('sorts rows by time within a file, across batches given out of order', async () => {
    const times = [37, 3, 59, 0, 12, 44, 21, 8, 50, 1].map((minute) => T0 + minute * MINUTE_US);
    const batches = [times.slice(0, 5), times.slice(5)].map((part) =>
      batchOf(part.map((timeUs) => ({ timeUs, fields: { v: BigInt(timeUs) } }))),
    );
    const rows = await fileRows(onlyFile(await encode(batches)).path);
    const sorted = [...times].sort((a, b) => a - b).map((timeUs) => BigInt(timeUs));
    expect(rows.map((row) => row['time'])).toEqual(sorted);
    expect(rows.map((row) => row['v'])).toEqual(sorted);
  });

  it('sorts batches that are each in order but overlap in time', async () => {
    const first = batchOf([0, 10, 20].map((minute) => ({ timeUs: T0 + minute * MINUTE_US })));
    const second = batchOf([5, 15, 25].map((minute) => ({ timeUs: T0 + minute * MINUTE_US })));
    const rows = await fileRows(onlyFile(await encode([first, second])).path);
    expect(encoder.lastTimings.sorted).toBe(true);
    expect(rows.map((row) => row['time'])).toEqual([0, 5, 10, 15, 20, 25].map((minute) => BigInt(T0 + minute * MINUTE_US)));
  });

  it('puts batches that are each in order and disjoint in time back in time order without a sort (requests from several decoders)', async () => {
    // Five requests of 3 rows each, arriving shuffled as several decoders hand them on: the file
    // is in time order and the COPY did not sort (a sort costs 2-3x the rest of the COPY).
    const parts = [0, 1, 2, 3, 4].map((part) => batchOf([0, 1, 2].map((row) => ({ timeUs: T0 + (part * 3 + row) * MINUTE_US, fields: { part: BigInt(part) } }))));
    const shuffled = [parts[2], parts[0], parts[4], parts[1], parts[3]].map((batch) => batch as ColumnBatch);
    const rows = await fileRows(onlyFile(await encode(shuffled)).path);
    expect(encoder.lastTimings.sorted).toBe(false);
    expect(rows.map((row) => row['time'])).toEqual(Array.from({ length: 15 }, (_, index) => BigInt(T0 + index * MINUTE_US)));
    expect(rows.map((row) => row['part'])).toEqual([0n, 0n, 0n, 1n, 1n, 1n, 2n, 2n, 2n, 3n, 3n, 3n, 4n, 4n, 4n]);
  });

  it('sorts when a batch appended later starts at the time an earlier one ends (the earlier write of that time stays first)', async () => {
    // Moving the later batch ahead whole would put its row at minute 10 before the earlier
    // batch's: the two writes of one point would swap, and compaction keeps the later one.
    const earlier = batchOf([10, 20].map((minute) => ({ timeUs: T0 + minute * MINUTE_US, fields: { seq: minute === 10 ? 1n : 2n } })));
    const later = batchOf([0, 10].map((minute) => ({ timeUs: T0 + minute * MINUTE_US, fields: { seq: minute === 0 ? 3n : 4n } })));
    const rows = await fileRows(onlyFile(await encode([earlier, later])).path);
    expect(encoder.lastTimings.sorted).toBe(true);
    expect(rows.map((row) => [row['time'], row['seq']])).toEqual([
      [BigInt(T0), 3n],
      [BigInt(T0 + 10 * MINUTE_US), 1n],
      [BigInt(T0 + 10 * MINUTE_US), 4n],
      [BigInt(T0 + 20 * MINUTE_US), 2n],
    ]);
  });

  it('keeps batches whose equal boundary times are already in append order as they are, without a sort', async () => {
    const first = batchOf([0, 10].map((minute) => ({ timeUs: T0 + minute * MINUTE_US, fields: { seq: minute === 0 ? 1n : 2n } })));
    const second = batchOf([10, 20].map((minute) => ({ timeUs: T0 + minute * MINUTE_US, fields: { seq: minute === 10 ? 3n : 4n } })));
    const rows = await fileRows(onlyFile(await encode([first, second])).path);
    expect(encoder.lastTimings.sorted).toBe(false);
    expect(rows.map((row) => row['seq'])).toEqual([1n, 2n, 3n, 4n]);
  });

  it('keeps the append order of rows with equal time through the sort (a later write stays later)', async () => {
    // 2,000 rows out of time order over 50 distinct times, 40 rows each: DuckDB's sort is not
    // stable, and before the encoder ordered ties by append position it swapped ~half of them.
    const rows = Array.from({ length: 2000 }, (_, seq) => ({ timeUs: T0 + ((seq * 7919) % 50) * MINUTE_US, fields: { seq: BigInt(seq) } }));
    const written = await fileRows(onlyFile(await encode([batchOf(rows.slice(0, 1000)), batchOf(rows.slice(1000))])).path);
    const seqsByTime = new Map<unknown, bigint[]>();
    for (const row of written) seqsByTime.set(row['time'], [...(seqsByTime.get(row['time']) ?? []), row['seq'] as bigint]);
    expect(seqsByTime.size).toBe(50);
    for (const seqs of seqsByTime.values()) expect(seqs).toEqual([...seqs].sort((a, b) => (a < b ? -1 : 1)));
  });

  it('keeps ties in append order when a column is named like the sort\'s own sequence column', async () => {
    const rows = Array.from({ length: 600 }, (_, seq) => ({ timeUs: T0 + ((seq * 7919) % 20) * MINUTE_US, fields: { arc_flush_seq: BigInt(seq), ARC_FLUSH_SEQ_: -BigInt(seq) } }));
    const written = await fileRows(onlyFile(await encode([batchOf(rows.slice(0, 300)), batchOf(rows.slice(300))])).path);
    expect(Object.keys(written[0] ?? {})).toEqual(['time', 'arc_flush_seq', 'ARC_FLUSH_SEQ_']);
    const seqsByTime = new Map<unknown, bigint[]>();
    for (const row of written) {
      expect(row['ARC_FLUSH_SEQ_']).toBe(-(row['arc_flush_seq'] as bigint));
      seqsByTime.set(row['time'], [...(seqsByTime.get(row['time']) ?? []), row['arc_flush_seq'] as bigint]);
    }
    expect(seqsByTime.size).toBe(20);
    for (const seqs of seqsByTime.values()) expect(seqs).toEqual([...seqs].sort((a, b) => (a < b ? -1 : 1)));
  });

  it('keeps time order without a sort when rows arrive in order, over 3 Parquet row groups written by a 2-thread DuckDB', async () => {
    // 300,000 rows make 3 row groups of 122,880; COPY may encode row groups on both threads.
    const batches = [0, 1, 2].map((part) =>
      batchOf(Array.from({ length: 100_000 }, (_, row) => ({ timeUs: T0 + (part * 100_000 + row) * 1000, fields: { n: BigInt(part * 100_000 + row) } }))),
    );
    const file = onlyFile(await encode(batches));
    const [check] = await rowsOf(
      `SELECT count(*) AS rows, count(*) FILTER (WHERE n <> file_row_number) AS misplaced ` +
        `FROM read_parquet(${quoteLiteral(file.path)}, file_row_number = true)`,
    );
    expect(check).toEqual({ rows: 300_000n, misplaced: 0n });
  });

  it('writes one file per UTC hour when rows span 3 hours, each holding only its hour', async () => {
    const spanning = batchOf(
      [0, 1, 2].flatMap((hour) => [5, 59].map((minute) => ({ timeUs: T0 + hour * MICROS_PER_HOUR + minute * MINUTE_US, fields: { hour: BigInt(hour) } }))),
    );
    const lastHour = batchOf([{ timeUs: T0 + 2 * MICROS_PER_HOUR + 30 * MINUTE_US, fields: { hour: 2n } }]);
    const hoursAsked: number[] = [];
    const dir = join(root, 'hours');
    const files = await encoder.encode([spanning, lastHour], schemaOf([spanning, lastHour]), (hourStartUs) => {
      hoursAsked.push(hourStartUs);
      // Writers stage in directories storage made; the encoder writes into existing ones.
      mkdirSync(join(dir, String(hourStartUs)), { recursive: true });
      return join(dir, String(hourStartUs), 'part.parquet.tmp');
    });
    const hours = [T0, T0 + MICROS_PER_HOUR, T0 + 2 * MICROS_PER_HOUR];
    expect(hoursAsked).toEqual(hours);
    expect(files.map((file) => [file.hourStartUs, file.rowCount])).toEqual([
      [hours[0], 2],
      [hours[1], 2],
      [hours[2], 3],
    ]);
    for (const [index, file] of files.entries()) {
      expect(file.byteCount).toBe((await stat(file.path)).size);
      const rows = await fileRows(file.path);
      expect(rows.map((row) => row['hour'])).toEqual(rows.map(() => BigInt(index)));
      for (const row of rows) expect(Number(row['time']) - file.hourStartUs).toBeLessThan(MICROS_PER_HOUR);
    }
  });

  it('seals the files of a flush a few at a time, and on a failed seal discards them only after every seal ended', async () => {
    const local = new LocalStorage(root);
    let inFlight = 0;
    let inFlightMax = 0;
    let failPath: string | null = null;
    const discardedWhileSealing: number[] = [];
    // The lanes enter their seals together; each seal also yields a macrotask (not a timed wait),
    // so a failing one settles while the others are still in flight.
    const staged: StagedFiles = {
      sealStaged: async (path) => {
        inFlight++;
        inFlightMax = Math.max(inFlightMax, inFlight);
        try {
          await new Promise((resolve) => setImmediate(resolve));
          if (path === failPath) throw new Error('fsync failed: EIO');
          return await local.sealStaged(path);
        } finally {
          inFlight--;
        }
      },
      discard: async (path) => {
        discardedWhileSealing.push(inFlight);
        await local.discard(path);
      },
    };
    const sealing = await ParquetEncoder.create({ ...baseOptions(), staged });
    try {
      const hourCount = SEAL_CONCURRENCY_MAX * 2 + 1;
      const batch = batchOf(Array.from({ length: hourCount }, (_, hour) => ({ timeUs: T0 + hour * MICROS_PER_HOUR, fields: { hour: BigInt(hour) } })));
      const files = await encode([batch], sealing);
      expect(files.map((file) => file.hourStartUs)).toEqual(Array.from({ length: hourCount }, (_, hour) => T0 + hour * MICROS_PER_HOUR));
      for (const file of files) expect(file.byteCount).toBe((await stat(file.path)).size);
      expect(inFlightMax).toBe(SEAL_CONCURRENCY_MAX);

      const dir = join(root, 'seal-fails');
      mkdirSync(dir, { recursive: true });
      const pathForHour = (hourStartUs: number): string => join(dir, `${hourStartUs}.parquet.tmp`);
      failPath = pathForHour(T0 + MICROS_PER_HOUR);
      const failed = sealing.encode([batch], schemaOf([batch]), pathForHour);
      await expect(failed).rejects.toMatchObject({ code: 'ARC_PARQUET_WRITE_FAILED' });
      expect(discardedWhileSealing).toHaveLength(hourCount);
      expect(discardedWhileSealing.every((sealsRunning) => sealsRunning === 0)).toBe(true);
    } finally {
      sealing.close();
    }
  });

  it('fills columns a batch lacks with NULL (schema evolution)', async () => {
    const first = batchOf([{ timeUs: T0, tags: { host: 'a' }, fields: { usage: 0.5 } }]);
    const second = batchOf([{ timeUs: T0 + MINUTE_US, tags: { host: 'b', rack: 'r1' }, fields: { count: 3n, status: 'ok' } }]);
    const rows = await fileRows(onlyFile(await encode([first, second])).path);
    expect(rows).toEqual([
      { time: BigInt(T0), host: 'a', usage: 0.5, rack: null, count: null, status: null },
      { time: BigInt(T0 + MINUTE_US), host: 'b', usage: null, rack: 'r1', count: 3n, status: 'ok' },
    ]);
  });

  it('widens int64 batch values into a float64 column, and reads an all-null batch column as NULL', async () => {
    const ints = batchOf([
      { timeUs: T0, fields: { v: 1n, w: 5n } },
      { timeUs: T0 + 1, fields: { v: 2n ** 53n + 1n, w: 6n } },
    ]);
    const doubles = batchOf([{ timeUs: T0 + 2, fields: { v: 2.5, w: null } }]);
    const file = onlyFile(await encode([ints, doubles]));
    const described = await rowsOf(`DESCRIBE SELECT v, w FROM read_parquet(${quoteLiteral(file.path)})`);
    expect(described.map((row) => row['column_type'])).toEqual(['DOUBLE', 'BIGINT']);
    const rows = await fileRows(file.path);
    expect(rows.map((row) => row['v'])).toEqual([1, 2 ** 53, 2.5]);
    expect(rows.map((row) => row['w'])).toEqual([5n, 6n, null]);
  });

  it('writes a uint64 column as UBIGINT, all 64 bits exact, across batches and with NULLs', async () => {
    const values = [0n, 1n, 2n ** 32n, 2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 1n];
    const first = batchOf(values.slice(0, 3).map((value, row) => ({ timeUs: T0 + row, fields: { u: { uint64: value } } })));
    const second = batchOf([
      ...values.slice(3).map((value, row) => ({ timeUs: T0 + 3 + row, fields: { u: { uint64: value } } })),
      { timeUs: T0 + 6, fields: { u: null, x: 1.5 } },
    ]);
    const file = onlyFile(await encode([first, second]));
    const described = await rowsOf(`DESCRIBE SELECT u FROM read_parquet(${quoteLiteral(file.path)})`);
    expect(described.map((row) => row['column_type'])).toEqual(['UBIGINT']);
    const rows = await fileRows(file.path);
    expect(rows.map((row) => row['u'])).toEqual([...values, null]);
  });

  it('keeps times beyond 2^53 µs exact, each in its own hour file, sorted (1677 and 2262 times)', async () => {
    const hour = 2_527_778n * BigInt(MICROS_PER_HOUR); // an hour start past 2^53 µs (year 2258)
    // hour - 1 rounds to `hour` as a double: placed by the double, its hour would have no file and
    // the row would be lost.
    const times = [hour + 5n, hour - 1n, hour, -9223372036854776n, 9223372036854775n];
    const builder = new BatchBuilder();
    builder.reset('db', 'cpu');
    times.forEach((micros, row) => {
      expect(builder.beginRowAtParts(Number(BigInt.asIntN(32, micros >> 32n)), Number(BigInt.asUintN(32, micros)))).toBeNull();
      appendValue(columnOf(builder, 'v', ColumnRole.field), BigInt(row));
    });
    const batch = builder.pack();
    if (isArcError(batch)) throw batch;
    const files = await encode([batch]);
    const hourStarts = files.map((file) => BigInt(file.hourStartUs));
    expect(hourStarts).toEqual([-9223372036854776n / 3_600_000_000n - 1n, hour / 3_600_000_000n - 1n, hour / 3_600_000_000n, 9223372036854775n / 3_600_000_000n].map((h) => h * 3_600_000_000n));
    const rows = (await Promise.all(files.map((file) => fileRows(file.path)))).flat();
    expect(rows.map((row) => row['time'])).toEqual([...times].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    expect(rows.map((row) => row['v'])).toEqual([3n, 1n, 2n, 0n, 4n]);
  });

  it('keeps 10,000 rows exact across chunk boundaries, with NULLs on both sides of each boundary', async () => {
    const nullRows = new Set([0, 2047, 2048, 2049, 4095, 4096, 6143, 6144, 8191, 8192, 9999]);
    const expected = Array.from({ length: 10_000 }, (_, row) => {
      const isNull = nullRows.has(row);
      return {
        time: BigInt(T0 + row * 1000),
        host: `host_${row % 7}`,
        i: isNull ? null : BigInt(row) * 1_000_000_007n,
        d: isNull ? null : row / 4,
        b: isNull ? null : row % 3 === 0,
        note: isNull ? null : row % 5 === 0 ? `value ${row} with a tail longer than twelve bytes` : `v${row}`,
      };
    });
    const batches = [expected.slice(0, 6000), expected.slice(6000)].map((part) =>
      batchOf(
        part.map(({ time, host, ...fields }) => ({ timeUs: Number(time), tags: { host }, fields })),
      ),
    );
    const file = onlyFile(await encode(batches));
    expect(file.rowCount).toBe(10_000);
    expect(await fileRows(file.path)).toEqual(expected);
  });

  it('quotes identifiers and paths: quotes, spaces and UTF-8 in names', async () => {
    const names = { tag: "it's a \"tag\"", field: 'mëtric wïth space' };
    const file = onlyFile(
      await encode([batchOf([{ timeUs: T0, tags: { [names.tag]: 'v' }, fields: { [names.field]: 1.25 } }])]),
    );
    expect(file.path).toContain("it's");
    const rows = await fileRows(file.path);
    expect(rows).toEqual([{ time: BigInt(T0), [names.tag]: 'v', [names.field]: 1.25 }]);
    const kv = await rowsOf(`SELECT decode(value) AS value FROM parquet_kv_metadata(${quoteLiteral(file.path)})`);
    expect(JSON.parse(String(kv[0]?.['value']))).toEqual([names.tag]);
  });

  it('uses the configured compression and row group size', async () => {
    const zstd = await ParquetEncoder.create({ ...baseOptions(), compression: 'zstd', rowGroupSize: 2048, threads: 1 });
    try {
      const rows = Array.from({ length: 5000 }, (_, row) => ({ timeUs: T0 + row, fields: { v: BigInt(row) } }));
      const file = onlyFile(await encode([batchOf(rows)], zstd));
      const meta = await rowsOf(
        `SELECT DISTINCT row_group_id, row_group_num_rows, compression FROM parquet_metadata(${quoteLiteral(file.path)}) ORDER BY row_group_id`,
      );
      expect(meta.map((row) => row['compression'])).toEqual(meta.map(() => 'ZSTD'));
      expect(meta.map((row) => row['row_group_num_rows'])).toEqual([2048n, 2048n, 904n]);
    } finally {
      zstd.close();
    }
    const snappy = onlyFile(await encode([batchOf([{ timeUs: T0, fields: { v: 1n } }])]));
    const [meta] = await rowsOf(`SELECT compression FROM parquet_metadata(${quoteLiteral(snappy.path)})`);
    expect(meta?.['compression']).toBe('SNAPPY');
    for (const compression of ['gzip', 'uncompressed'] as const) {
      const other = await ParquetEncoder.create({ ...baseOptions(), compression });
      try {
        const file = onlyFile(await encode([batchOf([{ timeUs: T0, fields: { v: 1n } }])], other));
        const [otherMeta] = await rowsOf(`SELECT compression FROM parquet_metadata(${quoteLiteral(file.path)})`);
        expect(otherMeta?.['compression']).toBe(compression.toUpperCase());
      } finally {
        other.close();
      }
    }
  });

  it('returns no files for no rows', async () => {
    expect(await encode([])).toEqual([]);
  });

  it('rejects with ARC_PARQUET_WRITE_FAILED when a file cannot be written, and stays usable', async () => {
    const blocker = join(root, 'not-a-directory');
    await writeFile(blocker, 'x');
    const batch = batchOf([{ timeUs: T0, fields: { v: 1n } }]);
    const failed = encoder.encode([batch], schemaOf([batch]), () => join(blocker, 'x.parquet.tmp'));
    await expect(failed).rejects.toMatchObject({ code: 'ARC_PARQUET_WRITE_FAILED' });
    // DuckDB's own failure (the target is a directory) takes the same path.
    const intoDirectory = encoder.encode([batch], schemaOf([batch]), () => root);
    await expect(intoDirectory).rejects.toMatchObject({ code: 'ARC_PARQUET_WRITE_FAILED', details: { measurement: 'cpu', path: root } });
    const file = onlyFile(await encode([batch]));
    expect(await fileRows(file.path)).toEqual([{ time: BigInt(T0), v: 1n }]);
  });
});
