/**
 * A pull reader over MessagePack bytes that allocates nothing per value: `next()` reads one
 * value head and leaves what it found in fields of the reader (kind, length, number parts, byte
 * range). Containers are entered by reading their items; `skip()` skips one whole value without
 * recursion, so hostile nesting depth cannot overflow the stack.
 *
 * Bad input (truncation, reserved bytes) throws `MsgpackFormatError`; the decoder turns that into a
 * result at its boundary, so the byte-level code stays free of error plumbing.
 */
export const MsgpackKind = {
  nil: 0,
  bool: 1,
  int: 2,
  float: 3,
  str: 4,
  bin: 5,
  array: 6,
  map: 7,
  ext: 8,
} as const;
export type MsgpackKind = (typeof MsgpackKind)[keyof typeof MsgpackKind];

export const MSGPACK_KIND_NAMES = ['nil', 'bool', 'integer', 'float', 'string', 'binary', 'array', 'map', 'extension'] as const;

export class MsgpackFormatError extends Error {
  readonly byteOffset: number;
  constructor(message: string, byteOffset: number) {
    super(message);
    this.byteOffset = byteOffset;
  }
}

const TWO_POW_32 = 4294967296;

export class MsgpackReader {
  bytes: Uint8Array = new Uint8Array(0);
  position = 0;
  private view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

  /** Head of the last value read. */
  kind: MsgpackKind = MsgpackKind.nil;
  /** str/bin/ext byte length, array item count, map entry count. */
  length = 0;
  /** str/bin/ext: start of the payload bytes (the reader is already past them). */
  dataStart = 0;
  boolValue = false;
  /** int: value as a double (exact when |value| <= 2^53) and as 64-bit parts. */
  numberValue = 0;
  intHigh = 0;
  intLow = 0;
  /** int: the value needs 64 bits and is beyond 2^53 (read intHigh/intLow, not numberValue). */
  intIsWide = false;
  /** uint64 beyond int64's range. */
  intOverflowsInt64 = false;

  reset(bytes: Uint8Array): void {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.position = 0;
  }

  atEnd(): boolean {
    return this.position >= this.bytes.byteLength;
  }

  /** Reads the next value's head (and, for str/bin/ext, steps over its payload). */
  next(): MsgpackKind {
    const start = this.position;
    this.need(1);
    const byte = this.view.getUint8(this.position++);
    if (byte <= 0x7f) return this.setInt(byte);
    if (byte >= 0xe0) return this.setInt(byte - 0x100);
    if ((byte & 0xf0) === 0x80) return this.setContainer(MsgpackKind.map, byte & 0x0f);
    if ((byte & 0xf0) === 0x90) return this.setContainer(MsgpackKind.array, byte & 0x0f);
    if ((byte & 0xe0) === 0xa0) return this.setData(MsgpackKind.str, byte & 0x1f);
    switch (byte) {
      case 0xc0:
        this.kind = MsgpackKind.nil;
        return this.kind;
      case 0xc2:
      case 0xc3:
        this.kind = MsgpackKind.bool;
        this.boolValue = byte === 0xc3;
        return this.kind;
      case 0xc4:
        return this.setData(MsgpackKind.bin, this.readUint(1));
      case 0xc5:
        return this.setData(MsgpackKind.bin, this.readUint(2));
      case 0xc6:
        return this.setData(MsgpackKind.bin, this.readUint(4));
      case 0xc7:
        return this.setExt(this.readUint(1));
      case 0xc8:
        return this.setExt(this.readUint(2));
      case 0xc9:
        return this.setExt(this.readUint(4));
      case 0xca:
        return this.setFloat(this.readFloat32());
      case 0xcb:
        return this.setFloat(this.readFloat64());
      case 0xcc:
        return this.setInt(this.readUint(1));
      case 0xcd:
        return this.setInt(this.readUint(2));
      case 0xce:
        return this.setInt(this.readUint(4));
      case 0xcf:
        return this.readWideInt(false);
      case 0xd0:
        this.need(1);
        return this.setInt(this.view.getInt8(this.position++));
      case 0xd1:
        this.need(2);
        this.position += 2;
        return this.setInt(this.view.getInt16(this.position - 2));
      case 0xd2:
        this.need(4);
        this.position += 4;
        return this.setInt(this.view.getInt32(this.position - 4));
      case 0xd3:
        return this.readWideInt(true);
      case 0xd4:
        return this.setExt(1);
      case 0xd5:
        return this.setExt(2);
      case 0xd6:
        return this.setExt(4);
      case 0xd7:
        return this.setExt(8);
      case 0xd8:
        return this.setExt(16);
      case 0xd9:
        return this.setData(MsgpackKind.str, this.readUint(1));
      case 0xda:
        return this.setData(MsgpackKind.str, this.readUint(2));
      case 0xdb:
        return this.setData(MsgpackKind.str, this.readUint(4));
      case 0xdc:
        return this.setContainer(MsgpackKind.array, this.readUint(2));
      case 0xdd:
        return this.setContainer(MsgpackKind.array, this.readUint(4));
      case 0xde:
        return this.setContainer(MsgpackKind.map, this.readUint(2));
      case 0xdf:
        return this.setContainer(MsgpackKind.map, this.readUint(4));
      default:
        throw new MsgpackFormatError(`reserved byte 0x${byte.toString(16)}`, start);
    }
  }

  /** Skips one whole value (containers included) iteratively. */
  skip(): void {
    let pending = 1;
    while (pending > 0) {
      pending--;
      const kind = this.next();
      if (kind === MsgpackKind.array) pending += this.length;
      else if (kind === MsgpackKind.map) pending += this.length * 2;
    }
  }

  /** True when the last str equals the ASCII `key` (no string is created). */
  strEquals(key: string): boolean {
    if (this.length !== key.length) return false;
    for (let index = 0; index < key.length; index++) {
      if (this.bytes[this.dataStart + index] !== key.charCodeAt(index)) return false;
    }
    return true;
  }

  private need(byteCount: number): void {
    if (this.position + byteCount > this.bytes.byteLength) {
      throw new MsgpackFormatError('unexpected end of data', this.position);
    }
  }

  private readUint(byteCount: 1 | 2 | 4): number {
    this.need(byteCount);
    const at = this.position;
    this.position += byteCount;
    if (byteCount === 1) return this.view.getUint8(at);
    if (byteCount === 2) return this.view.getUint16(at);
    return this.view.getUint32(at);
  }

  private readFloat32(): number {
    this.need(4);
    this.position += 4;
    return this.view.getFloat32(this.position - 4);
  }

  private readFloat64(): number {
    this.need(8);
    this.position += 8;
    return this.view.getFloat64(this.position - 8);
  }

  private readWideInt(signed: boolean): MsgpackKind {
    this.need(8);
    const high = signed ? this.view.getInt32(this.position) : this.view.getUint32(this.position);
    const low = this.view.getUint32(this.position + 4);
    this.position += 8;
    this.kind = MsgpackKind.int;
    this.intHigh = high | 0;
    this.intLow = low;
    this.intOverflowsInt64 = !signed && high >= 0x80000000;
    this.numberValue = high * TWO_POW_32 + low;
    this.intIsWide = !Number.isSafeInteger(this.numberValue);
    return this.kind;
  }

  private setInt(value: number): MsgpackKind {
    this.kind = MsgpackKind.int;
    this.numberValue = value;
    this.intHigh = Math.floor(value / TWO_POW_32);
    this.intLow = value >>> 0;
    this.intIsWide = false;
    this.intOverflowsInt64 = false;
    return this.kind;
  }

  private setFloat(value: number): MsgpackKind {
    this.kind = MsgpackKind.float;
    this.numberValue = value;
    return this.kind;
  }

  private setContainer(kind: MsgpackKind, length: number): MsgpackKind {
    // Each item takes at least one byte: a count beyond the remaining bytes is a lie we can
    // reject before anyone loops over it.
    const minimumBytes = kind === MsgpackKind.map ? length * 2 : length;
    if (minimumBytes > this.bytes.byteLength - this.position) {
      throw new MsgpackFormatError(`${MSGPACK_KIND_NAMES[kind]} of ${length} items exceeds the data`, this.position);
    }
    this.kind = kind;
    this.length = length;
    return kind;
  }

  private setData(kind: MsgpackKind, length: number): MsgpackKind {
    this.need(length);
    this.kind = kind;
    this.length = length;
    this.dataStart = this.position;
    this.position += length;
    return kind;
  }

  private setExt(length: number): MsgpackKind {
    this.need(1);
    this.position++; // the extension type byte
    return this.setData(MsgpackKind.ext, length);
  }
}
