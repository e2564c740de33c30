import { ArcError, badRequest } from '@arc/errors';
import { ServerErrorCode } from './error-codes.js';

/** The field Arc Go's import routes read the file from (`curl -F file=@data.csv`). */
export const MULTIPART_FILE_FIELD = 'file';

/** Bytes of a part's header block read at most before the part counts as malformed. */
const PART_HEADERS_BYTES_MAX = 16 * 1024;

const CRLF_CRLF = Buffer.from('\r\n\r\n');

/** The boundary of a `multipart/form-data; boundary=...` content type, or null for any other type. */
export function multipartBoundary(contentType: string): string | null {
  if (!/^multipart\/form-data\s*;/i.test(contentType)) return null;
  const match = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return match === null ? null : (match[1] ?? match[2] ?? null);
}

type State = 'preamble' | 'headers' | 'skip' | 'file' | 'done';

/**
 * Extracts the `file` part of a multipart/form-data body as it streams by, without holding the
 * body: each `push` returns the file bytes that are certainly the file's (a tail as long as the
 * closing delimiter is kept until the next chunk shows whether it is one). Other parts are skipped.
 *
 *   --boundary CRLF headers CRLF CRLF content CRLF --boundary ... --boundary-- CRLF
 */
export class MultipartFile {
  private readonly opening: Buffer;
  private readonly delimiter: Buffer;
  private pending = Buffer.alloc(0);
  private state: State = 'preamble';
  /** The file part was read to its closing delimiter (the body may end without one: 'done' alone is not enough). */
  private fileEnded = false;

  constructor(boundary: string) {
    this.opening = Buffer.from(`--${boundary}`);
    this.delimiter = Buffer.from(`\r\n--${boundary}`);
  }

  /** The file bytes this chunk completes (possibly none), or the 400 for a malformed body. */
  push(chunk: Uint8Array): Uint8Array[] | ArcError {
    if (this.state === 'done') return [];
    this.pending = this.pending.byteLength === 0 ? Buffer.from(chunk) : Buffer.concat([this.pending, chunk]);
    const out: Uint8Array[] = [];
    for (;;) {
      const progressed = this.step(out);
      if (progressed instanceof ArcError) return progressed;
      if (!progressed) return out;
    }
  }

  /** At the end of the body: null when the file part was read to its closing delimiter. */
  finish(): ArcError | null {
    if (this.fileEnded) return null;
    return badRequest(ServerErrorCode.importBadFile, `No complete '${MULTIPART_FILE_FIELD}' part in the multipart/form-data body: send the file as the field '${MULTIPART_FILE_FIELD}' (curl -F ${MULTIPART_FILE_FIELD}=@data.lp), or as the raw body`);
  }

  /** Advances one state if the pending bytes allow; false when it needs more bytes. */
  private step(out: Uint8Array[]): boolean | ArcError {
    switch (this.state) {
      case 'preamble': {
        const at = this.pending.indexOf(this.opening);
        if (at < 0) {
          this.keepTail(this.opening.byteLength);
          return false;
        }
        this.pending = this.pending.subarray(at + this.opening.byteLength);
        this.state = 'headers';
        return true;
      }
      case 'headers':
        return this.readHeaders();
      case 'skip':
      case 'file': {
        const at = this.pending.indexOf(this.delimiter);
        const end = at < 0 ? Math.max(0, this.pending.byteLength - this.delimiter.byteLength) : at;
        if (this.state === 'file' && end > 0) out.push(this.pending.subarray(0, end));
        if (at < 0) {
          this.pending = this.pending.subarray(end);
          return false;
        }
        this.pending = this.pending.subarray(at + this.delimiter.byteLength);
        if (this.state === 'file') this.fileEnded = true;
        this.state = this.state === 'file' ? 'done' : 'headers';
        return this.state !== 'done';
      }
      case 'done':
        return false;
    }
  }

  /** After a delimiter: `--` ends the body; else a CRLF, the part's headers and a blank line. */
  private readHeaders(): boolean | ArcError {
    if (this.pending.byteLength < 2) return false;
    if (this.pending[0] === 0x2d && this.pending[1] === 0x2d) {
      this.state = 'done';
      return false;
    }
    const end = this.pending.indexOf(CRLF_CRLF);
    if (end < 0) {
      if (this.pending.byteLength > PART_HEADERS_BYTES_MAX) return badRequest(ServerErrorCode.importBadFile, `A multipart part's headers exceed ${PART_HEADERS_BYTES_MAX} bytes`);
      return false;
    }
    const headers = this.pending.subarray(0, end).toString('latin1');
    this.pending = this.pending.subarray(end + CRLF_CRLF.byteLength);
    const disposition = /content-disposition:[^\r\n]*\bname="([^"]*)"/i.exec(headers);
    this.state = disposition?.[1] === MULTIPART_FILE_FIELD ? 'file' : 'skip';
    return true;
  }

  private keepTail(byteCount: number): void {
    if (this.pending.byteLength > byteCount) this.pending = this.pending.subarray(this.pending.byteLength - byteCount);
  }
}
