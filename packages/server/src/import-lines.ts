import { escapeMeasurement } from '@arc/columnar';
import { ArcError, badRequest } from '@arc/errors';
import { ProtocolErrorCode } from '@arc/protocol';
import type { ImportChunk } from './import-feed.js';
import { IMPORT_CHUNK_BYTES, IMPORT_LINE_BYTES_MAX } from './limits.js';

const NEWLINE = 0x0a;

/**
 * Cuts a stream of line protocol bytes into chunks of about IMPORT_CHUNK_BYTES that end at a line
 * break, numbering their first line in the file. Only line breaks are looked for (no parsing: the
 * decoders parse, as for any write). A line is never split across chunks.
 */
export class LineChunker {
  private buffer = Buffer.allocUnsafe(IMPORT_CHUNK_BYTES + IMPORT_LINE_BYTES_MAX);
  private length = 0;
  private nextLine = 1;

  /** Appends bytes; returns the chunks now complete, or the 400 for a line over IMPORT_LINE_BYTES_MAX. */
  push(bytes: Uint8Array): ImportChunk[] | ArcError {
    const chunks: ImportChunk[] = [];
    let offset = 0;
    while (offset < bytes.byteLength) {
      const take = Math.min(bytes.byteLength - offset, this.buffer.byteLength - this.length);
      this.buffer.set(bytes.subarray(offset, offset + take), this.length);
      this.length += take;
      offset += take;
      if (this.length < IMPORT_CHUNK_BYTES) continue;
      const cut = this.buffer.lastIndexOf(NEWLINE, this.length - 1);
      if (cut < 0) {
        if (this.length >= this.buffer.byteLength) return lineTooLong(this.nextLine);
        continue;
      }
      chunks.push(this.take(cut + 1));
    }
    return chunks;
  }

  /** The last chunk (the text after the last line break), or null when nothing is left. */
  finish(): ImportChunk | null {
    return this.length === 0 ? null : this.take(this.length);
  }

  private take(byteCount: number): ImportChunk {
    const body = new Uint8Array(byteCount);
    body.set(this.buffer.subarray(0, byteCount));
    this.buffer.copy(this.buffer, 0, byteCount, this.length);
    this.length -= byteCount;
    const chunk: ImportChunk = { body, firstNumber: this.nextLine, numbers: null };
    this.nextLine += countLines(body);
    return chunk;
  }
}

function countLines(body: Uint8Array): number {
  let count = 0;
  for (let at = body.indexOf(NEWLINE); at >= 0; at = body.indexOf(NEWLINE, at + 1)) count++;
  return count;
}

function lineTooLong(line: number): ArcError {
  return badRequest(ProtocolErrorCode.lpLineTooLong, `Line ${line} is longer than ${IMPORT_LINE_BYTES_MAX} bytes`, { line, limit_bytes: IMPORT_LINE_BYTES_MAX });
}

const COMMA = 0x2c;
const SPACE = 0x20;
const HASH = 0x23;

/**
 * Arc Go's `measurement` parameter of the line protocol import: keeps the lines of one measurement
 * and skips the others (counted). A line's measurement is its bytes up to the first unescaped comma
 * or space, compared with the name as line protocol escapes it; comments and blank lines are
 * skipped without being counted. Only the name is looked at: the decoders parse the kept lines.
 */
export class MeasurementFilter {
  private readonly name: Buffer;
  keptLines = 0;
  skippedLines = 0;

  constructor(measurement: string) {
    this.name = Buffer.from(escapeMeasurement(measurement));
  }

  /** The chunk's lines of the measurement (their numbers kept), or null when none is. */
  keep(chunk: ImportChunk): ImportChunk | null {
    const body = Buffer.from(chunk.body.buffer, chunk.body.byteOffset, chunk.body.byteLength);
    const parts: Buffer[] = [];
    const numbers: number[] = [];
    let start = 0;
    let lineIndex = 0;
    while (start < body.byteLength) {
      let end = body.indexOf(NEWLINE, start);
      if (end < 0) end = body.byteLength;
      const line = body.subarray(start, end);
      if (this.matches(line)) {
        parts.push(body.subarray(start, Math.min(end + 1, body.byteLength)));
        numbers.push(chunk.numbers?.[lineIndex] ?? chunk.firstNumber + lineIndex);
        this.keptLines += 1;
      } else if (!isBlankOrComment(line)) {
        this.skippedLines += 1;
      }
      start = end + 1;
      lineIndex += 1;
    }
    if (numbers.length === 0) return null;
    const kept = Buffer.concat(parts);
    // A buffer of its own: the decoders take the body across a thread.
    const copy = new Uint8Array(kept.byteLength);
    copy.set(kept);
    return { body: copy, firstNumber: numbers[0] ?? chunk.firstNumber, numbers: Int32Array.from(numbers) };
  }

  private matches(line: Buffer): boolean {
    const length = this.name.byteLength;
    if (line.byteLength <= length || line.compare(this.name, 0, length, 0, length) !== 0) return false;
    const next = line[length];
    // The name is compared escaped, so the byte after it is never an escaped one.
    return next === COMMA || next === SPACE;
  }
}

function isBlankOrComment(line: Buffer): boolean {
  for (const byte of line) {
    if (byte === HASH) return true;
    if (byte !== SPACE && byte !== 0x09 && byte !== 0x0d) return false;
  }
  return true;
}
