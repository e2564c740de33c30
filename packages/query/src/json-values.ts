import assert from 'node:assert/strict';
import { DuckDBTypeId } from '@duckdb/node-api';
import type { DuckDBType, DuckDBValue } from '@duckdb/node-api';
import { JsonWriter } from './json-writer.js';
import { writeBigInteger, writeDouble, writeFloat, writeScaled } from './json-numbers.js';
import { writeDateOrInfinity, writeTimestampCount } from './time-format.js';

const QUOTE = 0x22;
const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const BASE64_CODES = Uint8Array.from(BASE64_ALPHABET, (letter) => letter.charCodeAt(0));
const PADDING = 0x3d;

/** Text bytes of `count` source bytes in base64 with padding. */
export function base64Length(count: number): number {
  return Math.ceil(count / 3) * 4;
}

/**
 * Writes bytes `source[start..end)` as base64 (RFC 4648, standard alphabet, padded), unquoted.
 * The range is asserted once; BASE64_CODES is read by 6-bit values (0..63), always in bounds.
 */
export function putBase64(out: JsonWriter, source: Uint8Array, start: number, end: number): void {
  assert.ok(end <= source.length, 'the bytes lie inside the source');
  out.reserve(base64Length(end - start));
  const bytes = out.bytes;
  let at = out.length;
  let index = start;
  for (; index + 3 <= end; index += 3) {
    const triple = ((source[index] as number) << 16) | ((source[index + 1] as number) << 8) | (source[index + 2] as number);
    bytes[at++] = BASE64_CODES[triple >>> 18] as number;
    bytes[at++] = BASE64_CODES[(triple >>> 12) & 63] as number;
    bytes[at++] = BASE64_CODES[(triple >>> 6) & 63] as number;
    bytes[at++] = BASE64_CODES[triple & 63] as number;
  }
  const rest = end - index;
  if (rest > 0) {
    const triple = ((source[index] as number) << 16) | (rest === 2 ? (source[index + 1] as number) << 8 : 0);
    bytes[at++] = BASE64_CODES[triple >>> 18] as number;
    bytes[at++] = BASE64_CODES[(triple >>> 12) & 63] as number;
    bytes[at++] = rest === 2 ? (BASE64_CODES[(triple >>> 6) & 63] as number) : PADDING;
    bytes[at++] = PADDING;
  }
  out.length = at;
}

/** Writes a BLOB as a JSON string of its base64 text. */
export function writeBase64(out: JsonWriter, source: Uint8Array, start: number, end: number): void {
  out.byte(QUOTE);
  putBase64(out, source, start, end);
  out.byte(QUOTE);
}

/** Units per second and fraction digits of each timestamp type's stored count. */
const TIMESTAMP_UNITS: ReadonlyMap<DuckDBTypeId, readonly [bigint, number]> = new Map<DuckDBTypeId, readonly [bigint, number]>([
  [DuckDBTypeId.TIMESTAMP_S, [1n, 0]],
  [DuckDBTypeId.TIMESTAMP_MS, [1_000n, 3]],
  [DuckDBTypeId.TIMESTAMP, [1_000_000n, 6]],
  [DuckDBTypeId.TIMESTAMP_TZ, [1_000_000n, 6]],
  [DuckDBTypeId.TIMESTAMP_NS, [1_000_000_000n, 9]],
]);

interface ValueShapes {
  readonly items: readonly DuckDBValue[];
  readonly entries: Readonly<Record<string, DuckDBValue>> | readonly { key: DuckDBValue; value: DuckDBValue }[];
  readonly value: DuckDBValue;
  readonly bytes: Uint8Array;
  readonly days: number;
  readonly seconds: bigint;
  readonly millis: bigint;
  readonly micros: bigint;
  readonly nanos: bigint;
}

/**
 * Writes a value DuckDB's node API read out of a vector (the slow path, for values inside LIST,
 * ARRAY, STRUCT, MAP and UNION columns), by the same rules as the column writers: LIST and ARRAY
 * are JSON arrays, STRUCT a JSON object of its fields in order, MAP a JSON object keyed by the
 * text of each key, UNION the value of its current member; scalars as at the top level.
 */
export function writeDuckDBValue(out: JsonWriter, type: DuckDBType, value: DuckDBValue): void {
  if (value === null) {
    out.ascii('null');
    return;
  }
  const shape = value as unknown as ValueShapes;
  switch (type.typeId) {
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY:
      writeItems(out, type.valueType, shape.items);
      return;
    case DuckDBTypeId.STRUCT:
      writeStruct(out, type.entryNames, type.entryTypes, shape.entries as Readonly<Record<string, DuckDBValue>>);
      return;
    case DuckDBTypeId.MAP:
      writeMap(out, type.keyType, type.valueType, shape.entries as readonly { key: DuckDBValue; value: DuckDBValue }[]);
      return;
    case DuckDBTypeId.UNION: {
      const tag = (value as unknown as { tag: string }).tag;
      const memberType = type.memberTypes[type.memberTags.indexOf(tag)];
      if (memberType === undefined) out.string(String(shape.value));
      else writeDuckDBValue(out, memberType, shape.value);
      return;
    }
    default:
      writeScalar(out, type, value, shape);
  }
}

function writeScalar(out: JsonWriter, type: DuckDBType, value: DuckDBValue, shape: ValueShapes): void {
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN:
      out.ascii(value === true ? 'true' : 'false');
      return;
    case DuckDBTypeId.DOUBLE:
      writeDouble(out, value as number);
      return;
    case DuckDBTypeId.FLOAT:
      writeFloat(out, value as number);
      return;
    case DuckDBTypeId.VARCHAR:
      out.string(value as string);
      return;
    case DuckDBTypeId.BLOB:
      writeBase64(out, shape.bytes, 0, shape.bytes.length);
      return;
    case DuckDBTypeId.DATE:
      writeDateOrInfinity(out, shape.days);
      return;
    case DuckDBTypeId.DECIMAL:
      writeScaled(out, (value as unknown as { value: bigint }).value, type.scale);
      return;
    default:
      if (typeof value === 'number' || typeof value === 'bigint') writeBigInteger(out, BigInt(value));
      else writeTimestampOrText(out, type.typeId, value, shape);
  }
}

/** Timestamps by their stored count; any other kind as DuckDB's text for it. */
function writeTimestampOrText(out: JsonWriter, typeId: DuckDBTypeId, value: DuckDBValue, shape: ValueShapes): void {
  const units = TIMESTAMP_UNITS.get(typeId);
  if (units === undefined) {
    out.string(String(value));
    return;
  }
  const [unitsPerSecond, digits] = units;
  const count = typeId === DuckDBTypeId.TIMESTAMP_S ? shape.seconds
    : typeId === DuckDBTypeId.TIMESTAMP_MS ? shape.millis
      : typeId === DuckDBTypeId.TIMESTAMP_NS ? shape.nanos : shape.micros;
  writeTimestampCount(out, count, unitsPerSecond, digits);
}

function writeItems(out: JsonWriter, itemType: DuckDBType, items: readonly DuckDBValue[]): void {
  out.byte(0x5b);
  for (const [index, item] of items.entries()) {
    if (index > 0) out.byte(0x2c);
    writeDuckDBValue(out, itemType, item);
  }
  out.byte(0x5d);
}

function writeStruct(out: JsonWriter, names: readonly string[], types: readonly DuckDBType[], entries: Readonly<Record<string, DuckDBValue>>): void {
  assert.equal(names.length, types.length, 'a STRUCT type has a type for each entry name');
  out.byte(0x7b);
  for (const [index, name] of names.entries()) {
    if (index > 0) out.byte(0x2c);
    out.string(name);
    out.byte(0x3a);
    // A STRUCT value holds every entry of its type; one it lacked would be written as NULL.
    const entry = entries[name];
    writeDuckDBValue(out, types[index] as DuckDBType, entry === undefined ? null : entry);
  }
  out.byte(0x7d);
}

function writeMap(out: JsonWriter, keyType: DuckDBType, valueType: DuckDBType, entries: readonly { key: DuckDBValue; value: DuckDBValue }[]): void {
  out.byte(0x7b);
  for (const [index, entry] of entries.entries()) {
    if (index > 0) out.byte(0x2c);
    out.string(mapKeyText(keyType, entry.key));
    out.byte(0x3a);
    writeDuckDBValue(out, valueType, entry.value);
  }
  out.byte(0x7d);
}

/** A MAP key as a JSON object key: strings as they are, other keys in their JSON text (unquoted). */
function mapKeyText(keyType: DuckDBType, key: DuckDBValue): string {
  if (typeof key === 'string') return key;
  const text = new JsonWriter(new Uint8Array(64));
  writeDuckDBValue(text, keyType, key);
  const json = Buffer.from(text.bytes.subarray(0, text.length)).toString('utf8');
  return json.startsWith('"') ? (JSON.parse(json) as string) : json;
}
