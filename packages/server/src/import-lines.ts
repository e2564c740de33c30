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
