// Proves dictionary-encoded and plain utf8 columns reach Parquet byte for byte, on the ENUM path and
// the VARCHAR path alike: batches are packed by hand in the documented Arrow layout
// (packages/columnar types.ts), encoded, and read back by a separate DuckDB instance (values
// compared as hex bytes, column types, Parquet schema, union_by_name, time order).
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DuckDBConnection } from '@duckdb/node-api';
import {
  ColumnRole,
  ColumnType,
  MICROS_PER_HOUR,
  quoteIdentifier,
  quoteLiteral,
  type BufferRange,
  type ColumnBatch,
  type ColumnLayout,
  type SchemaColumn,
} from '@arc/columnar';
import { LocalStorage } from '@arc/storage';
import { ParquetEncoder, type EncodedHourFile } from '../src/parquet-encoder.js';
import { ENCODER_ENUM_MEMBERS_MAX, ENCODER_ENUM_ROWS_PER_MEMBER_MIN, ENCODER_ENUM_UNION_BYTES_MAX } from '../src/limits.js';
import { mergeSchema } from '../src/schema-merge.js';
import { openParquetReader, type ParquetReader } from './support/test-values.js';

/** 2026-11-24T10:00:00Z in microseconds: the start of a UTC hour. */
const T0 = Date.UTC(2026, 10, 24, 10) * 1000;
/** Length of the long values of the union-bytes test: a log line, not a tag. */
const STRING_BYTES = 60_000;

/**
 * One utf8 column of a hand-packed batch. `dictionary`: absent = plain utf8; `true` = dictionary
 * of the distinct values in first-seen order; an array = exactly that dictionary (it may hold
 * entries no row uses, in any order).
 */
interface Utf8ColumnSpec {
  readonly name: string;
  readonly role?: ColumnRole;
  readonly values: readonly (string | null)[];
  readonly dictionary?: true | readonly string[];
  /** Overrides the code of row i (a broken batch). */
  readonly codeOverride?: { readonly row: number; readonly code: number };
}

/** Packs buffers back to back in one ArrayBuffer, each at an 8-byte aligned offset. */
class BufferPacker {
  private readonly parts: { range: BufferRange; bytes: Uint8Array }[] = [];
  private byteLength = 0;

  place(bytes: Uint8Array): BufferRange {
    const range = { byteOffset: this.byteLength, byteLength: bytes.byteLength };
    this.parts.push({ range, bytes });
    this.byteLength += Math.ceil(bytes.byteLength / 8) * 8;
    return range;
  }

  finish(): ArrayBuffer {
    const buffer = new ArrayBuffer(this.byteLength);
    for (const { range, bytes } of this.parts) new Uint8Array(buffer, range.byteOffset, range.byteLength).set(bytes);
    return buffer;
  }
}

const utf8 = new TextEncoder();

/** Offsets ((count + 1) x int32) and data of a utf8 array. */
function utf8Array(values: readonly string[]): { offsets: Uint8Array; data: Uint8Array } {
  const encoded = values.map((value) => utf8.encode(value));
  const offsets = new Int32Array(values.length + 1);
  encoded.forEach((bytes, index) => (offsets[index + 1] = (offsets[index] ?? 0) + bytes.byteLength));
  const data = new Uint8Array(offsets[values.length] ?? 0);
  encoded.forEach((bytes, index) => data.set(bytes, offsets[index]));
  return { offsets: new Uint8Array(offsets.buffer), data };
}

function packColumn(packer: BufferPacker, spec: Utf8ColumnSpec, rowCount: number): ColumnLayout {
  expect(spec.values).toHaveLength(rowCount);
  const nullCount = spec.values.filter((value) => value === null).length;
  let validity: BufferRange | null = null;
  if (nullCount > 0) {
    const bitmap = new Uint8Array(Math.ceil(rowCount / 8));
    spec.values.forEach((value, row) => {
      if (value !== null) bitmap[row >>> 3] = (bitmap[row >>> 3] ?? 0) | (1 << (row & 7));
    });
    validity = packer.place(bitmap);
  }
  const base = { name: spec.name, role: spec.role ?? ColumnRole.tag, type: ColumnType.utf8, nullCount, validity };
  if (spec.dictionary === undefined) {
    const { offsets, data } = utf8Array(spec.values.map((value) => value ?? ''));
    return { ...base, values: packer.place(data), offsets: packer.place(offsets), dictionary: null };
  }
  const present = spec.values.filter((value): value is string => value !== null);
  const entries = spec.dictionary === true ? [...new Set(present)] : spec.dictionary;
  const codeByValue = new Map(entries.map((entry, code) => [entry, code]));
  const codes = new Int32Array(rowCount);
  spec.values.forEach((value, row) => {
    if (value === null) return;
    const code = codeByValue.get(value);
    if (code === undefined) throw new Error(`value '${value}' is not in the dictionary`);
    codes[row] = code;
  });
  if (spec.codeOverride !== undefined) codes[spec.codeOverride.row] = spec.codeOverride.code;
  const { offsets, data } = utf8Array(entries);
  const dictionary = { size: entries.length, offsets: packer.place(offsets), data: packer.place(data) };
  return { ...base, values: packer.place(new Uint8Array(codes.buffer)), offsets: null, dictionary };
}

/** A batch of measurement `cpu` with the given row times (microseconds) and utf8 columns. */
function packBatch(timesUs: readonly number[], columns: readonly Utf8ColumnSpec[]): ColumnBatch {
  const packer = new BufferPacker();
  const time = packer.place(new Uint8Array(BigInt64Array.from(timesUs, (us) => BigInt(us)).buffer));
  const layouts = columns.map((spec) => packColumn(packer, spec, timesUs.length));
  return {
    database: 'db',
    measurement: 'cpu',
    rowCount: timesUs.length,
    timeMinUs: Math.min(...timesUs),
    timeMaxUs: Math.max(...timesUs),
    time,
    columns: layouts,
    buffer: packer.finish(),
  };
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

/** Times one microsecond apart from `startUs`. */
function timesFrom(startUs: number, count: number): number[] {
  return Array.from({ length: count }, (_, row) => startUs + row);
}

/** `values` repeated until there are `count` of them. */
function cycle<T>(values: readonly T[], count: number): T[] {
  return Array.from({ length: count }, (_, row) => values[row % values.length] as T);
}

function hexOf(value: string | null): string | null {
  return value === null ? null : Buffer.from(value, 'utf8').toString('hex').toUpperCase();
}

let root = '';
let testIndex = 0;
let encoder: ParquetEncoder;
let reader: DuckDBConnection;
let parquetReader: ParquetReader;

async function encode(batches: readonly ColumnBatch[]): Promise<EncodedHourFile[]> {
  const dir = join(root, `t${testIndex++}`);
  // Writers stage in directories storage made; the encoder writes into existing ones.
  await mkdir(dir, { recursive: true });
  return encoder.encode(batches, schemaOf(batches), (hourStartUs) => join(dir, `${hourStartUs}.parquet.tmp`));
}

function onlyFile(files: readonly EncodedHourFile[]): EncodedHourFile {
  expect(files).toHaveLength(1);
  const file = files[0];
  if (file === undefined) throw new Error('no file');
  return file;
}

async function rowsOf(sql: string): Promise<Record<string, unknown>[]> {
  return (await reader.runAndReadAll(sql)).getRowObjectsJS();
}

/** Time and the hex bytes of `columns`, in file order. */
async function hexRows(path: string, columns: readonly string[]): Promise<{ time: bigint; hex: (string | null)[] }[]> {
  const select = columns.map((name) => `hex(${quoteIdentifier(name)})`).join(', ');
  const rows = (await reader.runAndReadAll(`SELECT epoch_us(time), ${select} FROM read_parquet(${quoteLiteral(path)})`)).getRowsJS();
  return rows.map(([time, ...hex]) => ({ time: time as bigint, hex: hex as (string | null)[] }));
}

/** The batches' values of `column` in append order, as hex (what a file written in order holds). */
function expectedHex(specs: readonly (readonly Utf8ColumnSpec[])[], column: string): (string | null)[] {
  return specs.flatMap((columns) => columns.find((spec) => spec.name === column)?.values ?? []).map(hexOf);
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'arc-parquet-dictionary-'));
  encoder = await ParquetEncoder.create({
    staged: new LocalStorage(root),
    threads: 2,
    compression: 'snappy',
    rowGroupSize: 122_880,
    tempDirectory: join(root, 'duckdb-tmp'),
    memoryLimit: '1GB',
  });
  parquetReader = await openParquetReader();
  reader = parquetReader.connection;
});

afterAll(async () => {
  encoder.close();
  parquetReader.close();
  await rm(root, { recursive: true, force: true });
});

/** Values of every shape: empty, multibyte, astral, > 12 bytes, quotes, backslash, BOM first. */
const SHAPES = [
  '',
  'a',
  'héllo',
  '日本語のテキスト',
  '🚀 rocket',
  'exactly12byt',
  'thirteen byte',
  'a longer string that lives in the string heap ✓',
  "it's",
  'back\\slash',
  '\uFEFFbom first',
  'e\u0301 decomposed',
  'é composed',
  'NULL',
  ' ',
] as const;

describe('ParquetEncoder with dictionary-encoded utf8 columns', () => {
  it('round-trips dictionary values of every shape with NULLs across chunk boundaries, as ENUM', async () => {
    const rowCount = 5000;
    // Null in the first row (code 0 in a null slot) and around the 2,048-row chunk boundaries.
    const nullRows = new Set([0, 2047, 2048, 4095, 4096, 4999]);
    const values = Array.from({ length: rowCount }, (_, row) => (nullRows.has(row) ? null : (SHAPES[row % SHAPES.length] ?? '')));
    // The dictionary order differs from first-seen order and holds an entry no row uses.
    const dictionary = ['unused entry', ...[...SHAPES].reverse()];
    const spec = { name: 'host', values, dictionary };
    const file = onlyFile(await encode([packBatch(timesFrom(T0, rowCount), [spec])]));
    expect(encoder.lastTimings.enumColumnCount).toBe(1);
    const rows = await hexRows(file.path, ['host']);
    expect(rows.map((row) => row.time)).toEqual(timesFrom(T0, rowCount).map(BigInt));
    expect(rows.map((row) => row.hex[0])).toEqual(values.map(hexOf));
  });

  it('unions dictionaries and plain batches of one column; codes differ per batch', async () => {
    const perBatch = 2000;
    const specs: Utf8ColumnSpec[][] = [
      [{ name: 'host', values: cycle(['a', 'b', 'c', null], perBatch), dictionary: ['c', 'b', 'a'] }],
      [{ name: 'host', values: cycle(['d', '', 'a', 'a long value beyond twelve bytes'], perBatch) }],
      [{ name: 'host', values: cycle(['', 'b', 'd', 'e'], perBatch), dictionary: true }],
      // A batch where the column is all null, and one without it.
      [{ name: 'host', values: cycle([null], perBatch), dictionary: [] }],
      [{ name: 'other', values: cycle(['x'], perBatch) }],
      [{ name: 'host', values: cycle(['e', null, 'f'], perBatch) }],
    ];
    const batches = specs.map((columns, index) => packBatch(timesFrom(T0 + index * perBatch, perBatch), columns));
    const file = onlyFile(await encode(batches));
    expect(encoder.lastTimings.enumColumnCount).toBe(2);
    const rows = await hexRows(file.path, ['host', 'other']);
    const expectedOther = specs.flatMap((columns) => columns.find((spec) => spec.name === 'other')?.values ?? cycle([null], perBatch));
    const expectedHost = specs.flatMap((columns) => columns.find((spec) => spec.name === 'host')?.values ?? cycle([null], perBatch));
    expect(rows.map((row) => row.hex[0])).toEqual(expectedHost.map(hexOf));
    expect(rows.map((row) => row.hex[1])).toEqual(expectedOther.map(hexOf));
  });

  it('writes ENUM columns as plain UTF8 strings that read back as VARCHAR, also with union_by_name', async () => {
    const rowCount = 4000;
    const enumFile = onlyFile(await encode([packBatch(timesFrom(T0, rowCount), [{ name: 'host', values: cycle(['h1', 'h2'], rowCount), dictionary: true }])]));
    expect(encoder.lastTimings.enumColumnCount).toBe(1);
    // Few rows per distinct value: the same column goes the VARCHAR path.
    const plainFile = onlyFile(await encode([packBatch([T0 + MICROS_PER_HOUR], [{ name: 'host', values: ['h3'], dictionary: true }])]));
    expect(encoder.lastTimings.enumColumnCount).toBe(0);
    for (const file of [enumFile, plainFile]) {
      const [schema] = await rowsOf(`SELECT type, converted_type, logical_type FROM parquet_schema(${quoteLiteral(file.path)}) WHERE name = 'host'`);
      expect(schema).toEqual({ type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: null });
    }
    const both = `read_parquet([${quoteLiteral(enumFile.path)}, ${quoteLiteral(plainFile.path)}], union_by_name = true)`;
    const described = await rowsOf(`DESCRIBE SELECT * FROM ${both}`);
    expect(described.map((row) => [row['column_name'], row['column_type']])).toEqual([
      ['time', 'TIMESTAMP'],
      ['host', 'VARCHAR'],
    ]);
    const counts = await rowsOf(`SELECT host, count(*) AS rows FROM ${both} GROUP BY host ORDER BY host`);
    expect(counts).toEqual([
      { host: 'h1', rows: 2000n },
      { host: 'h2', rows: 2000n },
      { host: 'h3', rows: 1n },
    ]);
    const [filtered] = await rowsOf(`SELECT count(*) AS rows FROM ${both} WHERE host = 'h2' OR host LIKE 'h3%'`);
    expect(filtered).toEqual({ rows: 2001n });
  });

  it('sorts ENUM rows by time within each hour file when batches arrive out of order', async () => {
    const perBatch = 1000;
    // Two batches, each spanning two hours, the second earlier than the first.
    const starts = [T0 + MICROS_PER_HOUR - perBatch / 2, T0 - perBatch / 2];
    const specs = starts.map((startUs, index) => [
      { name: 'host', values: timesFrom(startUs, perBatch).map((us) => `h${us % 7}-${index}`), dictionary: true as const },
      { name: 'hour', values: timesFrom(startUs, perBatch).map((us) => (us < T0 ? 'before' : us < T0 + MICROS_PER_HOUR ? 'first' : 'second')) },
    ]);
    const batches = specs.map((columns, index) => packBatch(timesFrom(starts[index] ?? 0, perBatch), columns));
    const files = await encode(batches);
    expect(encoder.lastTimings.enumColumnCount).toBe(2);
    expect(files.map((file) => [file.hourStartUs, file.rowCount])).toEqual([
      [T0 - MICROS_PER_HOUR, 500],
      [T0, 1000],
      [T0 + MICROS_PER_HOUR, 500],
    ]);
    const expected = new Map<number, string>();
    specs.forEach((columns, index) => timesFrom(starts[index] ?? 0, perBatch).forEach((us, row) => expected.set(us, columns[0]?.values[row] ?? '')));
    for (const file of files) {
      const rows = await hexRows(file.path, ['host']);
      const times = rows.map((row) => Number(row.time));
      expect(times).toEqual([...times].sort((a, b) => a - b));
      expect(times.every((us) => us >= file.hourStartUs && us < file.hourStartUs + MICROS_PER_HOUR)).toBe(true);
      expect(rows.map((row) => row.hex[0])).toEqual(times.map((us) => hexOf(expected.get(us) ?? null)));
    }
  });

  it('uses 2-byte ENUM codes beyond 255 members (3,000 here, past every growth of the union)', async () => {
    const members = Array.from({ length: 3000 }, (_, index) => `member-${index}-${'x'.repeat(index % 20)}`);
    const rowCount = members.length * ENCODER_ENUM_ROWS_PER_MEMBER_MIN;
    const values = cycle(members, rowCount);
    // Half the rows in a dictionary batch, half plain: both code sources at width 2.
    const half = rowCount / 2;
    const batches = [
      packBatch(timesFrom(T0, half), [{ name: 'host', values: values.slice(0, half), dictionary: true }]),
      packBatch(timesFrom(T0 + half, half), [{ name: 'host', values: values.slice(half) }]),
    ];
    const file = onlyFile(await encode(batches));
    expect(encoder.lastTimings.enumColumnCount).toBe(1);
    expect((await hexRows(file.path, ['host'])).map((row) => row.hex[0])).toEqual(values.map(hexOf));
  });

  it('goes the VARCHAR path, values exact, when a column has too few rows per distinct value', async () => {
    const specs: Utf8ColumnSpec[][] = [
      [{ name: 'host', values: [...SHAPES, null], dictionary: true }],
      [{ name: 'host', values: ['z', ...SHAPES.slice(0, 3), null] }],
    ];
    const batches = specs.map((columns, index) => packBatch(timesFrom(T0 + index * 100, columns[0]?.values.length ?? 0), columns));
    const file = onlyFile(await encode(batches));
    expect(encoder.lastTimings.enumColumnCount).toBe(0);
    expect((await hexRows(file.path, ['host'])).map((row) => row.hex[0])).toEqual(expectedHex(specs, 'host'));
  });

  it('goes the VARCHAR path for a value holding NUL, which an ENUM member cannot', async () => {
    const rowCount = 2000;
    const values = cycle(['a\u0000b', 'plain', null], rowCount);
    const file = onlyFile(await encode([packBatch(timesFrom(T0, rowCount), [{ name: 'host', values, dictionary: true }])]));
    expect(encoder.lastTimings.enumColumnCount).toBe(0);
    expect((await hexRows(file.path, ['host'])).map((row) => row.hex[0])).toEqual(values.map(hexOf));
  });

  it('round-trips random Unicode members exactly through the ENUM (members are SQL literals)', async () => {
    let seed = 20261124;
    const random = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    const alphabet = ["'", '"', '\\', ' ', '\n', '\t', '\r', ';', '--', '/*', '$', 'a', 'Z', 'é', '\u0301', '\uFEFF', '\u00A0', 'ß', '字', '😀', '\u{10FFFF}', '\uFFFD'];
    const members = new Set<string>();
    while (members.size < 300) {
      const length = Math.floor(random() * 24);
      members.add(Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)] ?? '').join(''));
    }
    const rowCount = members.size * ENCODER_ENUM_ROWS_PER_MEMBER_MIN;
    const values = cycle([...members], rowCount);
    const file = onlyFile(await encode([packBatch(timesFrom(T0, rowCount), [{ name: 'host', values, dictionary: true }])]));
    expect(encoder.lastTimings.enumColumnCount).toBe(1);
    expect((await hexRows(file.path, ['host'])).map((row) => row.hex[0])).toEqual(values.map(hexOf));
  });

  it(`falls back to VARCHAR when the union passes ${ENCODER_ENUM_MEMBERS_MAX} values, though each batch is a dictionary`, async () => {
    const distinct = ENCODER_ENUM_MEMBERS_MAX + 1;
    const batchRows = 4096;
    const rowCount = distinct * ENCODER_ENUM_ROWS_PER_MEMBER_MIN;
    const batches: ColumnBatch[] = [];
    for (let first = 0; first < rowCount; first += batchRows) {
      const values = Array.from({ length: batchRows }, (_, row) => `v${(first + row) % distinct}`);
      batches.push(packBatch(timesFrom(T0 + first, batchRows), [{ name: 'host', values, dictionary: true }]));
    }
    const file = onlyFile(await encode(batches));
    expect(encoder.lastTimings.enumColumnCount).toBe(0);
    const [check] = await rowsOf(
      `SELECT count(*) AS rows, count(DISTINCT host) AS distinct, ` +
        `count(*) FILTER (WHERE host <> 'v' || ((epoch_us(time) - ${T0}) % ${distinct})) AS wrong ` +
        `FROM read_parquet(${quoteLiteral(file.path)})`,
    );
    expect(check).toEqual({ rows: BigInt(rowCount), distinct: BigInt(distinct), wrong: 0n });
  });

  it('falls back to VARCHAR when few distinct values pass ENCODER_ENUM_UNION_BYTES_MAX bytes together', async () => {
    const distinct = Math.ceil(ENCODER_ENUM_UNION_BYTES_MAX / STRING_BYTES) + 1;
    const rowCount = distinct * ENCODER_ENUM_ROWS_PER_MEMBER_MIN;
    const valueOf = (index: number): string => String(index).padStart(STRING_BYTES, '#');
    const values = Array.from({ length: rowCount }, (_, row) => valueOf(row % distinct));
    const file = onlyFile(await encode([packBatch(timesFrom(T0, rowCount), [{ name: 'line', values, dictionary: true }])]));
    expect(encoder.lastTimings.enumColumnCount).toBe(0);
    const [check] = await rowsOf(
      `SELECT count(*) AS rows, count(*) FILTER (WHERE line <> lpad(((epoch_us(time) - ${T0}) % ${distinct})::VARCHAR, ${STRING_BYTES}, '#')) AS wrong ` +
        `FROM read_parquet(${quoteLiteral(file.path)})`,
    );
    expect(check).toEqual({ rows: BigInt(rowCount), wrong: 0n });
  });

  it('rejects a dictionary code outside its dictionary with an AssertionError, and stays usable', async () => {
    const rowCount = 100;
    const broken = packBatch(timesFrom(T0, rowCount), [
      { name: 'host', values: cycle(['a', 'b'], rowCount), dictionary: true, codeOverride: { row: 37, code: 2 } },
    ]);
    await expect(encode([broken])).rejects.toMatchObject({ code: 'ERR_ASSERTION' });
    const good = packBatch(timesFrom(T0, 2000), [{ name: 'host', values: cycle(['a', 'b'], 2000), dictionary: true }]);
    const file = onlyFile(await encode([good]));
    expect(encoder.lastTimings.enumColumnCount).toBe(1);
    expect((await hexRows(file.path, ['host'])).map((row) => row.hex[0])).toEqual(cycle(['a', 'b'], 2000).map(hexOf));
  });
});
