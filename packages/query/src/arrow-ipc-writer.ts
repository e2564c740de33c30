import assert from 'node:assert/strict';

/**
 * The Arrow IPC stream format's metadata, written by hand: each message is a FlatBuffer (Arrow's
 * format/Message.fbs and Schema.fbs) framed as
 *
 *   | 0xFFFFFFFF | metadata bytes (int32) | Message flatbuffer, zero-padded | body |
 *     continuation                            so the body starts 8-aligned     buffers, each 8-aligned
 *
 * and the stream ends with 0xFFFFFFFF 0x00000000. Only what Arc's answers need is here: a schema
 * of flat nullable fields, and record batches without compression or dictionaries.
 */

/** Message.fbs MetadataVersion.V5. */
const METADATA_VERSION_V5 = 4;
/** Message.fbs MessageHeader union tags. */
const MESSAGE_HEADER_SCHEMA = 1;
const MESSAGE_HEADER_RECORD_BATCH = 3;
export const CONTINUATION = 0xffff_ffff;
/** Every buffer of a record batch body, and the body itself, starts at a multiple of this. */
const IPC_ALIGNMENT = 8;

/** Schema.fbs Type union tags of the types Arc writes. */
export const ArrowTypeTag = {
  int: 2,
  floatingPoint: 3,
  binary: 4,
  utf8: 5,
  bool: 6,
  date: 8,
  timestamp: 10,
} as const;
export type ArrowTypeTag = (typeof ArrowTypeTag)[keyof typeof ArrowTypeTag];

/** Schema.fbs TimeUnit. */
export const ArrowTimeUnit = { second: 0, millisecond: 1, microsecond: 2, nanosecond: 3 } as const;
export type ArrowTimeUnit = (typeof ArrowTimeUnit)[keyof typeof ArrowTimeUnit];

/** An Arrow type as the schema message needs it. */
export type ArrowType =
  | { readonly tag: typeof ArrowTypeTag.int; readonly bitWidth: 8 | 16 | 32 | 64; readonly signed: boolean }
  | { readonly tag: typeof ArrowTypeTag.floatingPoint; readonly precision: 1 | 2 }
  | { readonly tag: typeof ArrowTypeTag.binary | typeof ArrowTypeTag.utf8 | typeof ArrowTypeTag.bool }
  | { readonly tag: typeof ArrowTypeTag.date }
  | { readonly tag: typeof ArrowTypeTag.timestamp; readonly unit: ArrowTimeUnit; readonly timezone: string };

export interface ArrowField {
  readonly name: string;
  readonly type: ArrowType;
}

/** One column of a record batch: rows and NULLs (FieldNode), then its buffers' byte lengths. */
export interface BatchColumnLayout {
  readonly nullCount: number;
  /** Unpadded byte length of each buffer (validity first; 0 for a validity buffer left out). */
  readonly bufferBytes: readonly number[];
}

const WORD = 4_294_967_296;

/** Rounds `bytes` up to IPC_ALIGNMENT. */
export function padded(bytes: number): number {
  return Math.ceil(bytes / IPC_ALIGNMENT) * IPC_ALIGNMENT;
}

type SlotSize = 1 | 2 | 4 | 8;
/** A table field: its inline size and value (an offset field's value is patched later). */
interface Slot {
  readonly size: SlotSize;
  readonly value: number;
}

/** A table as written: its position, and each field's value position (-1: absent). */
interface WrittenTable {
  readonly table: number;
  readonly fields: number[];
}

/** The position of field `id` of `written`, a field the table was given (a slot, not undefined). */
function fieldPosition(written: WrittenTable, id: number): number {
  const position = written.fields[id];
  assert.ok(position !== undefined, 'the table has a field of that id');
  assert.ok(position >= 0, 'the field was written');
  return position;
}

/**
 * A FlatBuffer written front to back: each table's vtable right before it, and every object a
 * table or vector points to written after it (FlatBuffers offsets are unsigned, pointing
 * forward), with offsets patched in once the target's position is known. Positions are aligned
 * as the FlatBuffers verifier checks them (8-byte scalars at multiples of 8 from the start).
 */
class FlatBufferWriter {
  private bytes = new Uint8Array(512);
  private data = new DataView(this.bytes.buffer);
  length = 0;

  result(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }

  private ensure(count: number): void {
    if (this.length + count <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + count));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
    this.data = new DataView(grown.buffer);
  }

  /** Zero bytes until the position is `remainder` modulo `alignment`. */
  align(alignment: number, remainder = 0): void {
    this.ensure(alignment);
    while (this.length % alignment !== remainder) this.bytes[this.length++] = 0;
  }

  private put(size: SlotSize, value: number): void {
    this.ensure(size);
    const at = this.length;
    if (size === 1) this.data.setUint8(at, value);
    else if (size === 2) this.data.setInt16(at, value, true);
    else if (size === 4) this.data.setUint32(at, value >>> 0, true);
    else {
      // 64-bit values here are lengths and offsets, non-negative and below 2^53.
      this.data.setUint32(at, value % WORD, true);
      this.data.setUint32(at + 4, Math.floor(value / WORD), true);
    }
    this.length += size;
  }

  /** Points the offset at `slotPosition` to `target` (both absolute positions). */
  patch(slotPosition: number, target: number): void {
    assert.ok(target > slotPosition, 'FlatBuffers offsets point forward');
    this.data.setUint32(slotPosition, target - slotPosition, true);
  }

  /** Reserves the root offset; patch it with the root table's position. */
  root(): number {
    assert.ok(this.length === 0, 'the root offset comes first');
    this.put(4, 0);
    return 0;
  }

  /**
   * Writes a table whose field `id` is `slots[id]` (undefined: absent) and returns the absolute
   * position of each field's value (-1 when absent) and of the table.
   */
  table(slots: readonly (Slot | undefined)[]): WrittenTable {
    // The given fields, largest first (a stable sort keeps equal sizes in id order).
    const order = slots.flatMap((slot, id) => (slot === undefined ? [] : [{ id, slot }])).sort((a, b) => b.slot.size - a.slot.size);
    const fieldOffsets = slots.map(() => 0);
    let inline = 4;
    for (const { id, slot } of order) {
      fieldOffsets[id] = inline;
      inline += slot.size;
    }
    this.align(2);
    const vtable = this.length;
    this.put(2, 4 + 2 * slots.length);
    this.put(2, inline);
    for (const offset of fieldOffsets) this.put(2, offset);
    // The table's soffset ends at a multiple of 8, where its 8-byte fields start.
    this.align(8, 4);
    const table = this.length;
    this.put(4, table - vtable);
    for (const { slot } of order) this.put(slot.size, slot.value);
    return { table, fields: fieldOffsets.map((offset, id) => (slots[id] === undefined ? -1 : table + offset)) };
  }

  string(text: string): number {
    const encoded = Buffer.from(text, 'utf8');
    this.align(4);
    const at = this.length;
    this.put(4, encoded.length);
    this.ensure(encoded.length + 1);
    this.bytes.set(encoded, this.length);
    this.length += encoded.length;
    this.bytes[this.length++] = 0;
    return at;
  }

  /** A vector of `count` offsets; returns the vector's position and each element's slot. */
  offsetVector(count: number): { readonly vector: number; readonly elements: number[] } {
    this.align(4);
    const vector = this.length;
    this.put(4, count);
    const elements: number[] = [];
    for (let index = 0; index < count; index++) {
      elements.push(this.length);
      this.put(4, 0);
    }
    return { vector, elements };
  }

  /** A vector of structs of two int64 (FieldNode, Buffer): the elements start 8-aligned. */
  pairVector(pairs: readonly (readonly [number, number])[]): number {
    this.align(8, 4);
    const vector = this.length;
    this.put(4, pairs.length);
    for (const [first, second] of pairs) {
      this.put(8, first);
      this.put(8, second);
    }
    return vector;
  }
}

const byte = (value: number): Slot => ({ size: 1, value });
const short = (value: number): Slot => ({ size: 2, value });
const int = (value: number): Slot => ({ size: 4, value });
const long = (value: number): Slot => ({ size: 8, value });
const OFFSET: Slot = { size: 4, value: 0 };

/** Writes `Message { version: V5, header_type, header, bodyLength }`; returns the header slot. */
function writeMessage(flat: FlatBufferWriter, headerType: number, bodyBytes: number): number {
  const root = flat.root();
  const message = flat.table([short(METADATA_VERSION_V5), byte(headerType), OFFSET, long(bodyBytes)]);
  flat.patch(root, message.table);
  return fieldPosition(message, 2);
}

/** The Schema.fbs table of a type; returns its position. */
function writeType(flat: FlatBufferWriter, type: ArrowType): number {
  switch (type.tag) {
    case ArrowTypeTag.int:
      return flat.table([int(type.bitWidth), byte(type.signed ? 1 : 0)]).table;
    case ArrowTypeTag.floatingPoint:
      return flat.table([short(type.precision)]).table;
    case ArrowTypeTag.date:
      // DateUnit.DAY is 0; the schema's default is MILLISECOND, so it is written out.
      return flat.table([short(0)]).table;
    case ArrowTypeTag.timestamp: {
      const written = flat.table([short(type.unit), OFFSET]);
      flat.patch(fieldPosition(written, 1), flat.string(type.timezone));
      return written.table;
    }
    default:
      return flat.table([]).table;
  }
}

/** Writes `Field { name, nullable: true, type, children: [] }`; returns its position. */
function writeField(flat: FlatBufferWriter, field: ArrowField): number {
  const written = flat.table([OFFSET, byte(1), byte(field.type.tag), OFFSET, undefined, OFFSET]);
  flat.patch(fieldPosition(written, 0), flat.string(field.name));
  flat.patch(fieldPosition(written, 3), writeType(flat, field.type));
  // Readers (Arrow C++ among them) require the children vector even when it is empty.
  flat.patch(fieldPosition(written, 5), flat.offsetVector(0).vector);
  return written.table;
}

/** The flatbuffer of the schema message. */
export function schemaMetadata(fields: readonly ArrowField[]): Uint8Array {
  const flat = new FlatBufferWriter();
  const header = writeMessage(flat, MESSAGE_HEADER_SCHEMA, 0);
  // Endianness.Little is the default (0); Schema.fields is field 1.
  const schema = flat.table([short(0), OFFSET]);
  flat.patch(header, schema.table);
  const vector = flat.offsetVector(fields.length);
  flat.patch(fieldPosition(schema, 1), vector.vector);
  // offsetVector gave a slot for each field.
  fields.forEach((field, index) => flat.patch(vector.elements[index] as number, writeField(flat, field)));
  return flat.result();
}

/**
 * The flatbuffer of a record batch message of `rowCount` rows whose columns have `columns`
 * layouts; the body is every buffer in order, each padded to IPC_ALIGNMENT.
 */
export function recordBatchMetadata(rowCount: number, columns: readonly BatchColumnLayout[]): Uint8Array {
  const nodes: (readonly [number, number])[] = [];
  const buffers: (readonly [number, number])[] = [];
  let offset = 0;
  for (const column of columns) {
    nodes.push([rowCount, column.nullCount]);
    for (const bytes of column.bufferBytes) {
      buffers.push([offset, bytes]);
      offset += padded(bytes);
    }
  }
  const flat = new FlatBufferWriter();
  const header = writeMessage(flat, MESSAGE_HEADER_RECORD_BATCH, offset);
  const batch = flat.table([long(rowCount), OFFSET, OFFSET]);
  flat.patch(header, batch.table);
  flat.patch(fieldPosition(batch, 1), flat.pairVector(nodes));
  flat.patch(fieldPosition(batch, 2), flat.pairVector(buffers));
  return flat.result();
}
