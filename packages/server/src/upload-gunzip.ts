import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { ArcError, ErrorKind, badRequest } from '@arc/errors';
import { ProtocolErrorCode } from '@arc/protocol';
import { ServerErrorCode } from './error-codes.js';

/** What an import reads its file from: the upload itself, or the upload decompressed. */
export interface UploadBytes {
  /** The next bytes of the file, null at its end, or why it cannot be read. */
  next(): Promise<Uint8Array | null | ArcError>;
}

const GZIP_MAGIC = [0x1f, 0x8b] as const;

/**
 * A gzip file upload, detected by its magic bytes as Arc Go does (`cpu.lp.gz` sent as it is) or
 * announced by `Content-Encoding: gzip`, read decompressed. The inflating runs in zlib's stream, on
 * libuv's thread pool, not on the acceptor thread; it is pulled, so the upload's own back-pressure
 * (a paused socket) still holds. The decompressed file is bounded like an uncompressed one
 * (`bytesMax`), so a small bomb cannot fill the spool or the pipeline.
 */
export async function maybeGunzip(upload: UploadBytes, announced: boolean, bytesMax: number): Promise<UploadBytes | ArcError> {
  const head: Uint8Array[] = [];
  let headBytes = 0;
  let ended = false;
  while (headBytes < GZIP_MAGIC.length) {
    const bytes = await upload.next();
    if (bytes instanceof ArcError) return bytes;
    if (bytes === null) {
      ended = true;
      break;
    }
    head.push(bytes);
    headBytes += bytes.byteLength;
  }
  const first = Buffer.concat(head);
  const gzip = first[0] === GZIP_MAGIC[0] && first[1] === GZIP_MAGIC[1];
  if (announced && !gzip) return badRequest(ServerErrorCode.importBadFile, 'Content-Encoding is gzip but the upload is not a gzip stream');
  if (!gzip) return replay(first, ended, upload);
  return new GunzipUpload(first, upload, bytesMax);
}

/** The upload with its first bytes (read to look for the magic) given back first. */
function replay(first: Uint8Array, ended: boolean, upload: UploadBytes): UploadBytes {
  let pending: Uint8Array | null = first.byteLength > 0 ? first : null;
  return {
    next: async () => {
      if (pending !== null) {
        const bytes = pending;
        pending = null;
        return bytes;
      }
      return ended ? null : upload.next();
    },
  };
}

class GunzipUpload implements UploadBytes {
  private readonly output: AsyncIterator<Buffer>;
  private readonly bytesMax: number;
  /** Why the upload under the stream failed (it then ends the stream with a plain Error). */
  private uploadFailure: ArcError | null = null;
  private failure: ArcError | null = null;
  private decompressedBytes = 0;

  constructor(first: Uint8Array, upload: UploadBytes, bytesMax: number) {
    this.bytesMax = bytesMax;
    const source = Readable.from(this.compressed(first, upload), { objectMode: false });
    const gunzip = createGunzip();
    // pipeline destroys the gunzip stream when the source fails, so the iteration below ends with that error.
    pipeline(source, gunzip, () => undefined);
    this.output = gunzip[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  private async *compressed(first: Uint8Array, upload: UploadBytes): AsyncGenerator<Uint8Array> {
    yield first;
    for (;;) {
      const bytes = await upload.next();
      if (bytes === null) return;
      if (bytes instanceof ArcError) {
        this.uploadFailure = bytes;
        throw new Error(bytes.message);
      }
      yield bytes;
    }
  }

  async next(): Promise<Uint8Array | null | ArcError> {
    if (this.failure !== null) return this.failure;
    try {
      const step = await this.output.next();
      if (step.done === true) return null;
      this.decompressedBytes += step.value.byteLength;
      if (this.decompressedBytes > this.bytesMax) {
        this.failure = new ArcError(ErrorKind.tooLarge, ProtocolErrorCode.payloadTooLarge, `Import file exceeds ${this.bytesMax} bytes once decompressed`, { limit_bytes: this.bytesMax });
        void this.output.return?.();
        return this.failure;
      }
      return step.value;
    } catch (error) {
      this.failure = this.uploadFailure ?? badRequest(ServerErrorCode.importBadFile, `The gzip file cannot be decompressed: ${(error as Error).message}`);
      return this.failure;
    }
  }
}
