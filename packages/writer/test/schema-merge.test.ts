// Proves mergeSchema's rules with a table of buffered schemas and packed batches: new columns are
// appended, int64 and float64 widen to float64 (uint64 meeting either is a conflict), all-null columns fit any type and are not added,
// and type, role or case conflicts come back as ARC_SCHEMA_CONFLICT values naming the column.
import { describe, expect, it } from 'vitest';
import { BatchBuilder, ColumnBuilder, ColumnRole, type ColumnBatch, type SchemaColumn } from '@arc/columnar';
import { ErrorKind, isArcError } from '@arc/errors';
import { mergeSchema } from '../src/schema-merge.js';
import { appendValue, type Value } from './support/test-values.js';

interface ColumnSpec {
  readonly name: string;
  readonly role: ColumnRole;
  /** One value per row; null rows are nulls, an all-null column keeps its builder's default type. */
  readonly values: readonly Value[];
}

function batchOf(columns: readonly ColumnSpec[]): ColumnBatch {
  const builder = new BatchBuilder();
  builder.reset('db', 'cpu');
  const rowCount = columns[0]?.values.length ?? 1;
  for (let row = 0; row < rowCount; row++) {
    const rowError = builder.beginRow(1_700_000_000_000_000 + row);
    if (rowError !== null) throw rowError;
    for (const spec of columns) {
      const column = builder.column(spec.name, spec.role);
      if (!(column instanceof ColumnBuilder)) throw column;
      appendValue(column, spec.values[row] ?? null);
    }
  }
  const batch = builder.pack();
  if (isArcError(batch)) throw batch;
  return batch;
}

const tag = (name: string, ...values: Value[]): ColumnSpec => ({ name, role: ColumnRole.tag, values });
const field = (name: string, ...values: Value[]): ColumnSpec => ({ name, role: ColumnRole.field, values });
const col = (name: string, role: SchemaColumn['role'], type: SchemaColumn['type']): SchemaColumn => ({ name, role, type });

interface Case {
  readonly name: string;
  readonly buffered: readonly SchemaColumn[];
  readonly batch: readonly ColumnSpec[];
  readonly schema?: readonly SchemaColumn[];
  /** Expected conflict: the message must contain every one of these. */
  readonly conflict?: readonly string[];
}

const cases: readonly Case[] = [
  {
    name: 'first batch: its columns in order',
    buffered: [],
    batch: [tag('host', 'a'), field('usage', 1.5), field('count', 3n)],
    schema: [col('host', 'tag', 'utf8'), col('usage', 'field', 'float64'), col('count', 'field', 'int64')],
  },
  {
    name: 'same columns in another order: buffered order kept',
    buffered: [col('host', 'tag', 'utf8'), col('usage', 'field', 'float64')],
    batch: [field('usage', 2.5), tag('host', 'b')],
    schema: [col('host', 'tag', 'utf8'), col('usage', 'field', 'float64')],
  },
  {
    name: 'new column appended (schema evolution)',
    buffered: [col('host', 'tag', 'utf8')],
    batch: [tag('host', 'a'), tag('region', 'eu'), field('ok', true)],
    schema: [col('host', 'tag', 'utf8'), col('region', 'tag', 'utf8'), col('ok', 'field', 'bool')],
  },
  {
    name: 'buffered column missing from the batch stays',
    buffered: [col('host', 'tag', 'utf8'), col('usage', 'field', 'float64')],
    batch: [tag('host', 'a')],
    schema: [col('host', 'tag', 'utf8'), col('usage', 'field', 'float64')],
  },
  {
    name: 'int64 buffered meets float64: widened to float64',
    buffered: [col('v', 'field', 'int64')],
    batch: [field('v', 1.5)],
    schema: [col('v', 'field', 'float64')],
  },
  {
    name: 'float64 buffered meets int64: stays float64',
    buffered: [col('v', 'field', 'float64')],
    batch: [field('v', 7n)],
    schema: [col('v', 'field', 'float64')],
  },
  {
    name: 'uint64 buffered meets uint64: stays uint64',
    buffered: [col('v', 'field', 'uint64')],
    batch: [field('v', { uint64: 18446744073709551615n })],
    schema: [col('v', 'field', 'uint64')],
  },
  {
    name: 'all-null batch column fits a buffered uint64',
    buffered: [col('v', 'field', 'uint64')],
    batch: [field('v', null)],
    schema: [col('v', 'field', 'uint64')],
  },
  {
    name: 'int64 buffered meets uint64: conflict in InfluxDB words',
    buffered: [col('v', 'field', 'int64')],
    batch: [field('v', { uint64: 1n })],
    conflict: ['field type conflict: input field "v" on measurement "cpu" is type unsigned, already exists as type integer (in buffered rows)'],
  },
  {
    name: 'uint64 buffered meets int64: conflict',
    buffered: [col('v', 'field', 'uint64')],
    batch: [field('v', 1n)],
    conflict: ['is type integer, already exists as type unsigned'],
  },
  {
    name: 'uint64 buffered meets float64: conflict (no silent rounding to a double)',
    buffered: [col('v', 'field', 'uint64')],
    batch: [field('v', 1.5)],
    conflict: ['is type float, already exists as type unsigned'],
  },
  {
    name: 'float64 buffered meets uint64: conflict',
    buffered: [col('v', 'field', 'float64')],
    batch: [field('v', { uint64: 2n })],
    conflict: ['is type unsigned, already exists as type float'],
  },
  {
    name: 'all-null batch column fits a buffered int64',
    buffered: [col('v', 'field', 'int64')],
    batch: [tag('host', 'a', 'b'), field('v', null, null)],
    schema: [col('v', 'field', 'int64'), col('host', 'tag', 'utf8')],
  },
  {
    name: 'all-null new column is not added',
    buffered: [col('host', 'tag', 'utf8')],
    batch: [tag('host', 'a', 'b'), field('maybe', null, null)],
    schema: [col('host', 'tag', 'utf8')],
  },
  {
    name: 'partly null new column is added with its type',
    buffered: [],
    batch: [field('v', null, 3n)],
    schema: [col('v', 'field', 'int64')],
  },
  {
    name: 'utf8 buffered meets int64: conflict',
    buffered: [col('v', 'field', 'utf8')],
    batch: [field('v', 1n)],
    conflict: ["'v'", "'cpu'", 'utf8', 'int64'],
  },
  {
    name: 'bool buffered meets float64: conflict',
    buffered: [col('ok', 'field', 'bool')],
    batch: [field('ok', 1.0)],
    conflict: ["'ok'", "'cpu'", 'bool', 'float64'],
  },
  {
    name: 'float64 buffered meets utf8: conflict',
    buffered: [col('v', 'field', 'float64')],
    batch: [field('v', 'x')],
    conflict: ["'v'", 'float64', 'utf8'],
  },
  {
    name: 'tag buffered meets field of the same name: conflict',
    buffered: [col('host', 'tag', 'utf8')],
    batch: [field('host', 'a')],
    conflict: ["'host'", 'tag', 'field'],
  },
  {
    name: 'role conflict is reported even for an all-null column',
    buffered: [col('host', 'tag', 'utf8')],
    batch: [field('usage', 1.0), field('host', null)],
    conflict: ["'host'", 'tag', 'field'],
  },
  {
    name: 'names differing only in case: conflict',
    buffered: [col('host', 'tag', 'utf8')],
    batch: [tag('Host', 'a')],
    conflict: ["'Host'", "'host'", 'case'],
  },
];

describe('mergeSchema', () => {
  for (const testCase of cases) {
    it(testCase.name, () => {
      const buffered = testCase.buffered.map((column) => ({ ...column }));
      const result = mergeSchema(buffered, batchOf(testCase.batch));
      expect(buffered).toEqual(testCase.buffered); // pure: the input is untouched
      if (testCase.conflict === undefined) {
        expect(result).toEqual({ schema: testCase.schema });
        return;
      }
      if (!('error' in result)) throw new Error(`expected a conflict, got ${JSON.stringify(result.schema)}`);
      expect(result.error.code).toBe('ARC_SCHEMA_CONFLICT');
      expect(result.error.kind).toBe(ErrorKind.badRequest);
      for (const part of testCase.conflict) expect(result.error.message).toContain(part);
      expect(result.error.details?.['measurement']).toBe('cpu');
      expect(typeof result.error.details?.['column']).toBe('string');
    });
  }

  it('a column that was all null in every earlier batch takes the type of the first real values', () => {
    const first = mergeSchema([], batchOf([tag('host', 'a'), field('v', null)]));
    if (!('schema' in first)) throw first.error;
    const second = mergeSchema(first.schema, batchOf([tag('host', 'a'), field('v', true)]));
    expect(second).toEqual({ schema: [col('host', 'tag', 'utf8'), col('v', 'field', 'bool')] });
  });
});
