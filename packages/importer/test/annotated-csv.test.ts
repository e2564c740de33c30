// The annotated CSV reader takes InfluxDB's documented examples apart into typed values (ns times,
// 64-bit integers, group flags), CSV quoting included, and reports error tables and mistyped cells.
import { describe, expect, it } from 'vitest';
import { csvRecords, parseAnnotatedCsv, rfc3339ToNs } from '../src/annotated-csv.js';

// The example of InfluxDB's "Annotated CSV" reference page (an unpivoted answer, #default row given).
const DOCUMENTED = [
  '#group,false,false,true,true,false,false,true,true,true,true',
  '#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,double,string,string,string,string',
  '#default,mean,,,,,,,,,',
  ',result,table,_start,_stop,_time,_value,_field,_measurement,host,region',
  ',,0,2022-12-31T05:41:24Z,2023-01-31T05:41:24.001Z,2023-01-01T00:52:00Z,15.43,mem,m,A,east',
  ',,1,2022-12-31T05:41:24Z,2023-01-31T05:41:24.001Z,2023-01-01T00:52:00Z,59.25,mem,m,B,east',
  ',,2,2022-12-31T05:41:24Z,2023-01-31T05:41:24.001Z,2023-01-01T00:52:00Z,52.62,mem,m,C,east',
  '',
].join('\r\n');

describe('annotated CSV', () => {
  it('reads the documented example: types, defaults, group key', () => {
    const parsed = parseAnnotatedCsv(DOCUMENTED);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.tables.length).toBe(1);
    const [table] = parsed.tables;
    expect(table?.columns.filter((column) => column.group).map((column) => column.name)).toEqual(['_start', '_stop', '_field', '_measurement', 'host', 'region']);
    expect(table?.records[0]).toEqual(['mean', 0n, 1672465284000000000n, 1675143684001000000n, 1672534320000000000n, 15.43, 'mem', 'm', 'A', 'east']);
    expect(table?.records.map((record) => record[8])).toEqual(['A', 'B', 'C']);
  });

  it('reads every datatype, quoted cells, and tables apart by an empty line', () => {
    const text = [
      '#group,false,false,false,false,false,false,false,true',
      '#datatype,string,long,dateTime:RFC3339Nano,long,unsignedLong,double,boolean,string',
      '#default,_result,,,,,,,',
      ',result,table,_time,i,u,f,b,s',
      ',,0,2023-11-14T22:13:20.000000001Z,-9223372036854775808,18446744073709551615,+Inf,true,"a ""quoted"", comma',
      'and a line break"',
      ',,0,2023-11-14T23:13:20.5+01:00,9223372036854775807,0,-1.5e-7,false,',
      '',
      '#group,false,false,false',
      '#datatype,string,long,double',
      '#default,_result,,',
      ',result,table,x',
      ',,1,',
      '',
    ].join('\n');
    const parsed = parseAnnotatedCsv(text);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.tables.length).toBe(2);
    expect(parsed.tables[0]?.records).toEqual([
      ['_result', 0n, 1700000000000000001n, -9223372036854775808n, 18446744073709551615n, Infinity, true, 'a "quoted", comma\nand a line break'],
      ['_result', 0n, 1700000000500000000n, 9223372036854775807n, 0n, -1.5e-7, false, null],
    ]);
    expect(parsed.tables[1]?.records).toEqual([['_result', 1n, null]]);
  });

  it('reports an error table and a cell that is not of its type', () => {
    const error = parseAnnotatedCsv('#datatype,string,string\n#group,true,true\n#default,,\n,error,reference\n,"failed to read: out of memory",897\n');
    expect(error).toEqual({ ok: false, message: 'failed to read: out of memory' });
    const mistyped = parseAnnotatedCsv('#datatype,string,long,long\n,result,table,n\n,,0,12x\n');
    expect(mistyped.ok).toBe(false);
    if (!mistyped.ok) expect(mistyped.message).toMatch(/record 3: column 'n' holds '12x', not a long/);
  });

  it('reads RFC 3339 times to the nanosecond, with zone offsets', () => {
    expect(rfc3339ToNs('1970-01-01T00:00:00Z')).toBe(0n);
    expect(rfc3339ToNs('1969-12-31T23:59:59.999999999Z')).toBe(-1n);
    expect(rfc3339ToNs('2023-01-01T01:00:00.123-01:30')).toBe(1672540200123000000n);
    expect(rfc3339ToNs('2023-01-01 01:00:00Z')).toBeNull();
    expect(csvRecords('a,"b\r\nc"\r\n\r\nd')).toEqual([['a', 'b\r\nc'], [], ['d']]);
  });
});
