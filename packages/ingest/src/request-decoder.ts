import type { BatchBufferPool, ColumnBatch } from '@arc/columnar';
import { type Config } from '@arc/config';
import { ArcError } from '@arc/errors';
import { JsonDecoder, LineProtocolDecoder, MsgpackDecoder, decompressBody } from '@arc/protocol';
import { PayloadFormat, type RequestOptions } from './frames.js';

/**
 * A write body to column batches: decompressed within `server.body_max_mb`, then decoded by its
 * format. The decoders keep scratch state, so each thread has its own: decoder threads for every
 * write, the main thread for the rare dead letter it must look into before re-applying it.
 * `buffers`: the decoder thread's pool its batches are packed into (writers give them back).
 */
export class RequestDecoder {
  private readonly config: Config;
  private readonly msgpack: MsgpackDecoder;
  private readonly lineProtocol: LineProtocolDecoder;
  private readonly json: JsonDecoder;

  constructor(config: Config, buffers?: BatchBufferPool) {
    this.config = config;
    this.msgpack = new MsgpackDecoder(buffers);
    this.lineProtocol = new LineProtocolDecoder(buffers);
    this.json = new JsonDecoder(buffers);
  }

  decode(request: RequestOptions, body: Uint8Array): ColumnBatch[] | ArcError {
    const decompressed = decompressBody(body, this.config.server.bodyBytesMax);
    if (decompressed instanceof ArcError) return decompressed;
    const { database, nowUs } = request;
    const rowContext = { database, nowUs, defaultHost: this.config.ingest.defaultHost };
    let result;
    switch (request.format) {
      case PayloadFormat.lineProtocol:
        result = this.lineProtocol.decode(decompressed, { database, nowUs, precision: request.precision });
        break;
      case PayloadFormat.json:
        result = this.json.decode(decompressed, rowContext);
        break;
      case PayloadFormat.msgpack:
        result = this.msgpack.decode(decompressed, rowContext);
        break;
    }
    return result.ok ? result.batches : result.error;
  }
}
