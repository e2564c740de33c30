import assert from 'node:assert/strict';
import { escapeKey, escapeMeasurement } from '@arc/columnar';
import { badRequest } from '@arc/errors';
import { ImporterErrorCode } from './error-codes.js';
import { LINE_TEXT_CACHE_ENTRIES_MAX, LINE_TEXT_CACHE_TEXT_LENGTH_MAX } from './limits.js';

/**
 * Line protocol text for the rows the drivers read: the escapes of InfluxDB's line protocol
 * reference, and field values spelled by type (float, `i` integer, `u` unsigned, quoted string,
 * `t`/`f` boolean). Pure text building: the decoders check the lines as they check any write.
 */

/** A field value as the source typed it. Integers beyond 2^53 arrive as bigint or as decimal text. */
export type FieldValue =
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'integer'; readonly value: bigint | number }
  | { readonly kind: 'unsigned'; readonly value: bigint | number }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'boolean'; readonly value: boolean };

/** `value` as line protocol spells it; null for a float with no spelling (NaN, infinities), which is left out like a NULL. */
export function fieldValueText(field: FieldValue): string | null {
  switch (field.kind) {
    case 'float':
      if (!Number.isFinite(field.value)) return null;
      // A whole float keeps a float spelling: '5' would be read back as a float anyway, but '5.0' says so.
      return Number.isInteger(field.value) && Math.abs(field.value) < 1e21 ? `${String(field.value)}.0` : String(field.value);
    case 'integer':
      return `${String(field.value)}i`;
    case 'unsigned':
      return `${String(field.value)}u`;
    case 'string':
      return `"${field.value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
    case 'boolean':
      return field.value ? 't' : 'f';
  }
}

/**
 * One line: `measurement[,tag=value...] field=value[,...] timeNs`. Tags with an empty value are
 * left out (line protocol has no empty tag value); fields whose value has no spelling too. Returns
 * null when no field is left (such a row has nothing to store). A line break in a name or a tag
 * value has no escape in line protocol (only a string field may hold one): such a row is refused
 * with ARC_IMPORT_LINE_BREAK naming what held it, never cut into two lines.
 */
export function lineOf(measurement: string, tags: readonly (readonly [string, string])[], fields: readonly (readonly [string, FieldValue])[], timeNs: bigint): string | null {
  assert.ok(measurement !== '', 'a line has a measurement');
  refuseLineBreak(measurement, 'the measurement name');
  let line = escapeMeasurement(measurement);
  for (const [key, value] of tags) {
    if (value === '') continue;
    line += `,${checkedKeyText(key, 'a tag key', null)}=${checkedKeyText(value, 'the value of tag', key)}`;
  }
  let fieldText = '';
  for (const [key, value] of fields) {
    const text = fieldValueText(value);
    if (text === null) continue;
    fieldText += `${fieldText === '' ? '' : ','}${checkedKeyText(key, 'a field key', null)}=${text}`;
  }
  if (fieldText === '') return null;
  return `${line} ${fieldText} ${timeNs.toString()}`;
}

const LINE_BREAK = /[\r\n]/;

/**
 * Keys and tag values escaped, by their text, each checked for a line break before it was kept:
 * a source repeats the same few on every row, and escaping and checking them each time was a
 * tenth of an InfluxDB import's source thread. Only texts that passed the check are kept, so a
 * refusal is the same whether or not the text was seen before. Bounded by limits.ts
 * LINE_TEXT_CACHE_ENTRIES_MAX and LINE_TEXT_CACHE_TEXT_LENGTH_MAX (per thread).
 */
const checkedKeyTexts = new Map<string, string>();

/** `text` escaped as a tag key, tag value or field key; refused (naming `what` of tag `tag`) if it holds a line break. */
function checkedKeyText(text: string, what: string, tag: string | null): string {
  const known = checkedKeyTexts.get(text);
  if (known !== undefined) return known;
  refuseLineBreak(text, tag === null ? what : `${what} '${tag}'`);
  const escaped = escapeKey(text);
  if (checkedKeyTexts.size < LINE_TEXT_CACHE_ENTRIES_MAX && text.length <= LINE_TEXT_CACHE_TEXT_LENGTH_MAX) checkedKeyTexts.set(text, escaped);
  return escaped;
}

function refuseLineBreak(text: string, what: string): void {
  if (LINE_BREAK.test(text)) throw badRequest(ImporterErrorCode.lineBreak, `${what} holds a line break, which line protocol cannot carry: ${JSON.stringify(text.slice(0, 80))}`);
}
