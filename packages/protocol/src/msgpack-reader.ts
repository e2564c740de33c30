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
  /** bytes.byteLength, kept as a plain number so bounds checks stay monomorphic. */
  private end = 0;
  /** A view over `bytes`, for callers that read runs of fixed-size values (columnar float64s). */
  view = new DataView<ArrayBufferLike>(new ArrayBuffer(0));

  /** Head of the last value read. */
  kind: MsgpackKind = MsgpackKind.nil;
  /** str/bin/ext byte length, array item count, map entry count. */
  length = 0;
  /** str/bin/ext: start of the payload bytes (the reader is already past them). */
  dataStart = 0;
  boolValue = false;
  /** int and float: the value (for ints exact unless `intIsWide`). */
  numberValue = 0;
  /** int: the value needs 64 bits and lies beyond 2^53; read intHigh/intLow instead. */
  intIsWide = false;
  /** int (wide only): high 32 bits (signed) and low 32 bits (unsigned). */
  intHigh = 0;
  intLow = 0;
  /** uint64 beyond int64's range. */
  intOverflowsInt64 = false;

  reset(bytes: Uint8Array): void {
    this.bytes = bytes;
    this.end = bytes.byteLength;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.position = 0;
  }

  atEnd(): boolean {
    return this.position >= this.end;
  }

  /**
   * Reads the next value's head (and, for str/bin/ext, steps over its payload). The one-byte
   * forms that dominate time-series documents (small ints, short strings, small maps and arrays)
   * are decoded here; the rest in `nextWide`.
   */
  next(): MsgpackKind {
    const position = this.position;
    if (position >= this.end) throw new MsgpackFormatError('unexpected end of data', position);
    const byte = this.bytes[position] as number; // in bounds: checked above
    this.position = position + 1;
    if (byte < 0x80) return this.setInt(byte);
    if (byte >= 0xe0) return this.setInt(byte - 0x100);
    if (byte < 0x90) return this.setContainer(MsgpackKind.map, byte & 0x0f);
    if (byte < 0xa0) return this.setContainer(MsgpackKind.array, byte & 0x0f);
    if (byte < 0xc0) return this.setData(MsgpackKind.str, byte & 0x1f);
    return this.nextWide(byte, position);
  }

  private nextWide(byte: number, start: number): MsgpackKind {
    switch (byte) {
      case 0xc0:
        this.kind = MsgpackKind.nil;
        return MsgpackKind.nil;
      case 0xc2:
      case 0xc3:
        this.kind = MsgpackKind.bool;
        this.boolValue = byte === 0xc3;
        return MsgpackKind.bool;
      case 0xcb:
        return this.setFloat(this.view.getFloat64(this.take(8)));
      case 0xca:
        return this.setFloat(this.view.getFloat32(this.take(4)));
      case 0xcc:
        return this.setInt(this.view.getUint8(this.take(1)));
      case 0xcd:
        return this.setInt(this.view.getUint16(this.take(2)));
      case 0xce:
        return this.setInt(this.view.getUint32(this.take(4)));
      case 0xcf:
        return this.setWideInt(this.take(8), false);
      case 0xd0:
        return this.setInt(this.view.getInt8(this.take(1)));
      case 0xd1:
        return this.setInt(this.view.getInt16(this.take(2)));
      case 0xd2:
        return this.setInt(this.view.getInt32(this.take(4)));
      case 0xd3:
        return this.setWideInt(this.take(8), true);
      case 0xd9:
        return this.setData(MsgpackKind.str, this.view.getUint8(this.take(1)));
      case 0xda:
        return this.setData(MsgpackKind.str, this.view.getUint16(this.take(2)));
      case 0xdb:
        return this.setData(MsgpackKind.str, this.view.getUint32(this.take(4)));
      case 0xc4:
        return this.setData(MsgpackKind.bin, this.view.getUint8(this.take(1)));
      case 0xc5:
        return this.setData(MsgpackKind.bin, this.view.getUint16(this.take(2)));
      case 0xc6:
        return this.setData(MsgpackKind.bin, this.view.getUint32(this.take(4)));
      case 0xdc:
        return this.setContainer(MsgpackKind.array, this.view.getUint16(this.take(2)));
      case 0xdd:
        return this.setContainer(MsgpackKind.array, this.view.getUint32(this.take(4)));
      case 0xde:
        return this.setContainer(MsgpackKind.map, this.view.getUint16(this.take(2)));
      case 0xdf:
        return this.setContainer(MsgpackKind.map, this.view.getUint32(this.take(4)));
      case 0xc7:
        return this.setExt(this.view.getUint8(this.take(1)));
      case 0xc8:
        return this.setExt(this.view.getUint16(this.take(2)));
      case 0xc9:
        return this.setExt(this.view.getUint32(this.take(4)));
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

  /** Steps over `byteCount` bytes and returns where they start. */
  private take(byteCount: number): number {
    const at = this.position;
    if (at + byteCount > this.end) throw new MsgpackFormatError('unexpected end of data', at);
    this.position = at + byteCount;
    return at;
  }

  private setWideInt(at: number, signed: boolean): MsgpackKind {
    const high = signed ? this.view.getInt32(at) : this.view.getUint32(at);
    const low = this.view.getUint32(at + 4);
    this.kind = MsgpackKind.int;
    this.intHigh = high | 0;
    this.intLow = low;
    this.intOverflowsInt64 = !signed && high >= 0x80000000;
    this.numberValue = high * TWO_POW_32 + low;
    this.intIsWide = !Number.isSafeInteger(this.numberValue);
    return MsgpackKind.int;
  }

  private setInt(value: number): MsgpackKind {
    this.kind = MsgpackKind.int;
    this.numberValue = value;
    this.intIsWide = false;
    this.intOverflowsInt64 = false;
    return MsgpackKind.int;
  }

  private setFloat(value: number): MsgpackKind {
    this.kind = MsgpackKind.float;
    this.numberValue = value;
    return MsgpackKind.float;
  }

  private setContainer(kind: MsgpackKind, length: number): MsgpackKind {
    // Each item takes at least one byte: a count beyond the remaining bytes is a lie we can
    // reject before anyone loops over it.
    const minimumBytes = kind === MsgpackKind.map ? length * 2 : length;
    if (minimumBytes > this.end - this.position) {
      throw new MsgpackFormatError(`${MSGPACK_KIND_NAMES[kind]} of ${length} items exceeds the data`, this.position);
    }
    this.kind = kind;
    this.length = length;
    return kind;
  }

  private setData(kind: MsgpackKind, length: number): MsgpackKind {
    const at = this.take(length);
    this.kind = kind;
    this.length = length;
    this.dataStart = at;
    return kind;
  }

  private setExt(length: number): MsgpackKind {
    this.take(1); // the extension type byte
    return this.setData(MsgpackKind.ext, length);
  }
}
