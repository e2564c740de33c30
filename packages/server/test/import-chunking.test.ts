// Proves the byte-level parts of file imports on their own: the multipart/form-data extractor yields
// exactly the `file` part's bytes however the body is split into chunks (every split point of a
// small body), refuses bodies without a complete file part; the line chunker cuts only at line
// breaks, numbers each chunk's first line, never loses or duplicates a byte, and refuses an
// over-long line by its number.
import { ArcError } from '@arc/errors';
import { describe, expect, it } from 'vitest';
import { LineChunker } from '../src/import-lines.js';
import { MultipartFile, multipartBoundary } from '../src/multipart-file.js';
import { IMPORT_CHUNK_BYTES, IMPORT_LINE_BYTES_MAX } from '../src/limits.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function body(boundary: string, parts: [string, string][]): string {
  return parts.map(([name, content]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="x"\r\nContent-Type: text/plain\r\n\r\n${content}\r\n`).join('') + `--${boundary}--\r\n`;
}

/** The file bytes the extractor yields for `text` pushed in the given pieces, or its error. */
function extract(boundary: string, pieces: string[]): string | ArcError {
  const multipart = new MultipartFile(boundary);
  let out = '';
  for (const piece of pieces) {
    const parts = multipart.push(encoder.encode(piece));
    if (parts instanceof ArcError) return parts;
    for (const part of parts) out += decoder.decode(part);
  }
  return multipart.finish() ?? out;
}

describe('multipart/form-data file extraction', () => {
  it('reads the boundary of the content type, quoted or not, and nothing else', () => {
    expect(multipartBoundary('multipart/form-data; boundary=abc')).toBe('abc');
    expect(multipartBoundary('multipart/form-data; charset=utf-8; boundary="a b"')).toBe('a b');
    expect(multipartBoundary('text/plain')).toBeNull();
    expect(multipartBoundary('multipart/form-data')).toBeNull();
  });

  it('yields the file part whole at every split point, skipping other fields', () => {
    const content = 'cpu v=1 1\r\ncpu v=2 2\n--not-the-boundary\r\n';
    const text = body('XyZ', [['note', 'hello'], ['file', content], ['after', 'bye']]);
    for (let split = 0; split <= text.length; split++) {
      expect(extract('XyZ', [text.slice(0, split), text.slice(split)])).toBe(content);
    }
    expect(extract('XyZ', Array.from(text))).toBe(content);
  });

  it('refuses a body without a file part, or one cut short', () => {
    const noFile = extract('b', [body('b', [['other', 'x']])]);
    expect(noFile).toBeInstanceOf(ArcError);
    expect((noFile as ArcError).code).toBe('ARC_IMPORT_BAD_FILE');
    const cut = body('b', [['file', 'cpu v=1 1\n']]).slice(0, 80);
    expect(extract('b', [cut])).toBeInstanceOf(ArcError);
    expect(extract('b', ['no boundary here at all'])).toBeInstanceOf(ArcError);
  });
});

describe('line chunker', () => {
  it('cuts at line breaks, numbers first lines, and loses no byte', () => {
    const line = (index: number): string => `m,host=h${index % 7} v=${index} ${index}\n`;
    const lines = Array.from({ length: 400_000 }, (_, index) => line(index));
    const text = lines.join('') + 'm v=1 1'; // no final line break
    const chunker = new LineChunker();
    const chunks = [];
    const bytes = encoder.encode(text);
    for (let offset = 0; offset < bytes.byteLength; offset += 65_521) {
      const out = chunker.push(bytes.subarray(offset, offset + 65_521));
      expect(out).not.toBeInstanceOf(ArcError);
      chunks.push(...(out as Exclude<typeof out, ArcError>));
    }
    const last = chunker.finish();
    if (last !== null) chunks.push(last);
    expect(chunks.length).toBeGreaterThan(2);
    expect(chunks.map((chunk) => decoder.decode(chunk.body)).join('')).toBe(text);
    let nextLine = 1;
    for (const chunk of chunks) {
      expect(chunk.firstNumber).toBe(nextLine);
      const chunkText = decoder.decode(chunk.body);
      expect(chunkText.startsWith(line(nextLine - 1)) || nextLine === lines.length + 1).toBe(true);
      expect(chunk.body.byteLength).toBeLessThanOrEqual(IMPORT_CHUNK_BYTES + IMPORT_LINE_BYTES_MAX);
      nextLine += chunkText.split('\n').length - 1;
    }
  });

  it('refuses a line longer than the limit by its number', () => {
    const chunker = new LineChunker();
    expect(chunker.push(encoder.encode('a v=1 1\nb v=2 2\n'))).toEqual([]);
    const long = new Uint8Array(IMPORT_CHUNK_BYTES + IMPORT_LINE_BYTES_MAX).fill(0x61);
    const refused = chunker.push(long);
    expect(refused).toBeInstanceOf(ArcError);
    expect((refused as ArcError).details).toMatchObject({ line: 3 });
  });
});
