// A MessagePack encoder that writes floats the way typed clients do (tests only).
/**
 * MessagePack as Go's msgp `WriteIntf` (Telegraf) and Python's `msgpack.packb` (Arc's SDK) write
 * their values: a float always as a 64-bit float (so 95.0 stays a float on the wire; write it
 * `{ float: 95 }`, since JavaScript cannot tell 95.0 from 95), integers as a positive fixint or an
 * int64, strings, booleans, nil, arrays and string-keyed maps.
 * msgpackr itself writes 95.0 as an integer, which is not what those clients send.
 */
export type TypedValue = number | bigint | string | boolean | null | TypedValue[] | { [key: string]: TypedValue } | { float: number };

export function typedMsgpack(value: TypedValue): Buffer {
  const parts: Buffer[] = [];
  const put = (v: TypedValue): void => {
    if (v === null) parts.push(Buffer.from([0xc0]));
    else if (typeof v === 'boolean') parts.push(Buffer.from([v ? 0xc3 : 0xc2]));
    else if (typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v))) {
      const n = BigInt(v);
      if (n >= 0n && n < 128n) parts.push(Buffer.from([Number(n)]));
      else {
        const b = Buffer.alloc(9);
        b[0] = 0xd3;
        b.writeBigInt64BE(n, 1);
        parts.push(b);
      }
    } else if (typeof v === 'number') put({ float: v });
    else if (typeof v === 'string') {
      const s = Buffer.from(v, 'utf8');
      parts.push(Buffer.from([0xd9, s.length]), s);
    } else if (Array.isArray(v)) {
      parts.push(Buffer.from([0xdc, v.length >> 8, v.length & 0xff]));
      v.forEach(put);
    } else if ('float' in v && typeof v.float === 'number' && Object.keys(v).length === 1) {
      const b = Buffer.alloc(9);
      b[0] = 0xcb;
      b.writeDoubleBE(v.float, 1);
      parts.push(b);
    } else {
      const entries = Object.entries(v);
      parts.push(Buffer.from([0xde, entries.length >> 8, entries.length & 0xff]));
      for (const [key, item] of entries) {
        put(key);
        put(item);
      }
    }
  };
  put(value);
  return Buffer.concat(parts);
}
