/**
 * InfluxDB 2.x's annotated CSV (the answer of `POST /api/v2/query` with annotations `group`,
 * `datatype`, `default`): tables of RFC 4180 records, each table opened by its annotation rows and
 * a header row, tables apart by an empty line. Values are typed by `#datatype`; an empty cell takes
 * the column's `#default`, else it is null. An error met while the query streams comes as a table
 * with the columns `error` and `reference`, reported here as an error.
 *
 *   #group,false,false,true,true,false,false,true,true
 *   #datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,double,string,string
 *   #default,_result,,,,,,,
 *   ,result,table,_start,_stop,_time,_value,_field,_measurement
 *   ,,0,2022-12-31T05:41:24Z,2023-01-31T05:41:24.001Z,2023-01-01T00:52:00Z,15.43,mem,m
 */

export type CsvValue = string | bigint | number | boolean | null;

export interface CsvColumn {
  readonly name: string;
  /** `#datatype`: string, long, unsignedLong, double, boolean, dateTime:RFC3339, dateTime:RFC3339Nano, duration, base64Binary. */
  readonly datatype: string;
  /** `#group`: the column is part of the table's group key. */
  readonly group: boolean;
}

export interface CsvTable {
  readonly columns: readonly CsvColumn[];
  /** Values by column position; `long`, `unsignedLong` and `dateTime:*` (ns) as bigint. */
  readonly records: (readonly CsvValue[])[];
}

export type AnnotatedCsvResult = { readonly ok: true; readonly tables: readonly CsvTable[] } | { readonly ok: false; readonly message: string };

/** The records of CSV text as cells (quoted cells may hold commas, quotes doubled, line breaks); an empty line is an empty record. */
export function csvRecords(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let cell = '';
  let position = 0;
  let quoted = false;
  while (position < text.length) {
    const char = text[position] as string;
    position += 1;
    if (quoted) {
      if (char !== '"') cell += char;
      else if (text[position] === '"') {
        cell += '"';
        position += 1;
      } else quoted = false;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      record.push(cell);
      cell = '';
    } else if (char === '\n' || char === '\r') {
      if (char === '\r' && text[position] === '\n') position += 1;
      record.push(cell);
      records.push(record.length === 1 && record[0] === '' ? [] : record);
      record = [];
      cell = '';
    } else cell += char;
  }
  if (cell !== '' || record.length > 0) {
    record.push(cell);
    records.push(record);
  }
  return records;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/** An RFC 3339 time with up to 9 fraction digits as ns since the epoch; null when it is not one. */
export function rfc3339ToNs(text: string): bigint | null {
  const match = RFC3339.exec(text);
  if (match === null) return null;
  const [, year, month, day, hour, minute, second, fraction = '', zone = 'Z'] = match;
  const ms = Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second));
  if (Number.isNaN(ms)) return null;
  let ns = BigInt(ms) * 1_000_000n + BigInt(fraction.padEnd(9, '0'));
  if (zone !== 'Z') {
    const offsetMinutes = Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6));
    ns -= BigInt(zone.startsWith('-') ? -offsetMinutes : offsetMinutes) * 60_000_000_000n;
  }
  return ns;
}

const DOUBLE_WORDS: Readonly<Record<string, number>> = { '+Inf': Infinity, Inf: Infinity, '-Inf': -Infinity, NaN: NaN };

/** A cell as its datatype reads it; undefined when the text is not of the type. */
function typedValue(datatype: string, text: string): CsvValue | undefined {
  switch (datatype) {
    case 'long':
      return /^[+-]?\d+$/.test(text) ? BigInt(text) : undefined;
    case 'unsignedLong':
      return /^\+?\d+$/.test(text) ? BigInt(text) : undefined;
    case 'double': {
      const word = DOUBLE_WORDS[text];
      if (word !== undefined) return word;
      const number = Number(text);
      return text.trim() === '' || Number.isNaN(number) ? undefined : number;
    }
    case 'boolean':
      return text === 'true' ? true : text === 'false' ? false : undefined;
    case 'dateTime:RFC3339':
    case 'dateTime:RFC3339Nano':
      return rfc3339ToNs(text) ?? undefined;
    default:
      return text;
  }
}

interface Annotations {
  group?: string[];
  datatype?: string[];
  default?: string[];
}

/** One table's columns from its annotations and header (the first cell of each is the annotation column). */
function columnsOf(annotations: Annotations, header: readonly string[]): CsvColumn[] {
  return header.slice(1).map((name, index) => ({
    name,
    datatype: annotations.datatype?.[index + 1] ?? 'string',
    group: annotations.group?.[index + 1] === 'true',
  }));
}

function recordOf(table: CsvTable, defaults: readonly string[] | undefined, cells: readonly string[], line: number): readonly CsvValue[] | string {
  const values: CsvValue[] = [];
  for (let index = 0; index < table.columns.length; index += 1) {
    const column = table.columns[index] as CsvColumn;
    let text = cells[index + 1] ?? '';
    if (text === '') text = defaults?.[index + 1] ?? '';
    if (text === '' && column.datatype !== 'string') {
      values.push(null);
      continue;
    }
    const value = typedValue(column.datatype, text);
    if (value === undefined) return `record ${String(line)}: column '${column.name}' holds '${text}', not a ${column.datatype}`;
    values.push(column.datatype === 'string' && text === '' ? null : value);
  }
  return values;
}

/** The tables of an annotated CSV answer, or what was wrong (an error table, a record of the wrong type). */
export function parseAnnotatedCsv(text: string): AnnotatedCsvResult {
  const tables: CsvTable[] = [];
  let annotations: Annotations = {};
  let table: CsvTable | null = null;
  let defaults: string[] | undefined;
  const records = csvRecords(text);
  for (let line = 0; line < records.length; line += 1) {
    const cells = records[line] as string[];
    const first = cells[0] ?? '';
    if (cells.length === 0) {
      table = null;
      continue;
    }
    if (first.startsWith('#')) {
      if (table !== null) {
        table = null;
        annotations = {};
      }
      const name = first.slice(1);
      if (name === 'group' || name === 'datatype' || name === 'default') annotations[name] = cells;
      continue;
    }
    if (table === null) {
      table = { columns: columnsOf(annotations, cells), records: [] };
      defaults = annotations.default;
      annotations = {};
      tables.push(table);
      continue;
    }
    const errorAt = table.columns.findIndex((column) => column.name === 'error');
    if (errorAt !== -1 && table.columns.some((column) => column.name === 'reference')) {
      return { ok: false, message: cells[errorAt + 1] ?? 'an error without a message' };
    }
    const record = recordOf(table, defaults, cells, line + 1);
    if (typeof record === 'string') return { ok: false, message: record };
    table.records.push(record);
  }
  return { ok: true, tables };
}
