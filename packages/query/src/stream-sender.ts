import assert from 'node:assert/strict';
import type { MessagePort } from 'node:worker_threads';
import type { DuckDBResult } from '@duckdb/node-api';
import type { StreamFormat } from './answer-format.js';
import { createChunkEncoder } from './chunk-encoders.js';
import { STREAM_CREDITS, STREAM_PIECE_BYTES } from './limits.js';
import type { StreamControl, StreamMessage } from './task-messages.js';

/**
 * The worker's end of a streamed answer. Rows are encoded chunk by chunk and sent in pieces of
 * about STREAM_PIECE_BYTES; at most STREAM_CREDITS pieces are unacknowledged at a time, and the
 * pool acknowledges a piece only once the HTTP socket took it. So a slow client slows DuckDB
 * down instead of piling the answer up in memory: memory stays flat whatever the result size.
 */
export class StreamSender {
  private readonly port: MessagePort;
  private readonly isCancelled: () => boolean;
  private credits = STREAM_CREDITS;
  private cancelled = false;
  private wake: (() => void) | null = null;

  constructor(port: MessagePort, isCancelled: () => boolean) {
    this.port = port;
    this.isCancelled = isCancelled;
    port.on('message', (message: StreamControl) => {
      if (message.type === 'credit') this.credits += 1;
      else this.cancelled = true;
      this.wake?.();
    });
  }

  /** Sends every row (up to `rowLimit`); resolves with the rows sent, or null when cancelled. */
  async send(result: DuckDBResult, format: StreamFormat, rowLimit: number): Promise<number | null> {
    try {
      const encoder = createChunkEncoder(format, result);
      const start = encoder.start();
      let pending: Uint8Array[] = [start];
      let pendingBytes = start.byteLength;
      let rowCount = 0;
      while (rowCount < rowLimit) {
        const chunk = await result.fetchChunk();
        if (this.stopped()) return null;
        if (chunk === null || chunk.rowCount === 0) break;
        const rows = Math.min(chunk.rowCount, rowLimit - rowCount);
        const bytes = encoder.encodeChunk(chunk, rows);
        rowCount += rows;
        pending.push(bytes);
        pendingBytes += bytes.byteLength;
        if (pendingBytes < STREAM_PIECE_BYTES) continue;
        if (!(await this.sendPiece(Buffer.concat(pending, pendingBytes)))) return null;
        pending = [];
        pendingBytes = 0;
      }
      if (pendingBytes > 0 && !(await this.sendPiece(Buffer.concat(pending, pendingBytes)))) return null;
      this.post({ type: 'end', rowCount }, []);
      return rowCount;
    } finally {
      this.port.close();
    }
  }

  private stopped(): boolean {
    return this.cancelled || this.isCancelled();
  }

  /** Waits for credit, then sends; false when the stream was cancelled meanwhile. */
  private async sendPiece(piece: Uint8Array): Promise<boolean> {
    while (this.credits === 0 && !this.stopped()) {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
      this.wake = null;
    }
    if (this.stopped()) return false;
    assert.ok(this.credits > 0);
    this.credits -= 1;
    // A fresh buffer of its own (Buffer.concat may hand out a pooled slab): transferred, not copied.
    const owned = piece.byteOffset === 0 && piece.byteLength === piece.buffer.byteLength ? piece : new Uint8Array(piece);
    this.post({ type: 'piece', bytes: owned }, [owned.buffer as ArrayBuffer]);
    return true;
  }

  private post(message: StreamMessage, transfer: ArrayBuffer[]): void {
    this.port.postMessage(message, transfer);
  }
}
