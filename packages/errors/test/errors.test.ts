// Proves errors never grow with the input they quote: truncateText cuts with a size marker (and
// never splits a character), and ArcError bounds its message and detail strings when made.
import { describe, expect, it } from 'vitest';
import { ArcError, ErrorKind, ERROR_DETAIL_CHARS_MAX, ERROR_MESSAGE_CHARS_MAX, truncateText } from '../src/index.js';

describe('truncateText', () => {
  it('keeps a text within the limit as it is', () => {
    expect(truncateText('cpu', 3)).toBe('cpu');
    expect(truncateText('', 0)).toBe('');
  });

  it('cuts a longer text and says how many bytes the whole text had', () => {
    expect(truncateText('x'.repeat(140_000), 8)).toBe('xxxxxxxx...(140000 bytes)');
    expect(truncateText('é'.repeat(10), 4)).toBe('éééé...(20 bytes)');
  });

  it('never keeps half of a surrogate pair', () => {
    const cut = truncateText('a😀b', 2);
    expect(cut).toBe('a...(6 bytes)');
    expect(Buffer.from(cut).toString()).toBe(cut);
  });
});

describe('ArcError bounds what it carries', () => {
  it('cuts a huge message and huge detail strings, keeps numbers and short strings', () => {
    const name = 'x'.repeat(200 * 1024);
    const error = new ArcError(ErrorKind.badRequest, 'ARC_TEST', `bad '${name}'`, { measurement: name, line: 3, column: 'v' });
    expect(error.message.length).toBeLessThan(ERROR_MESSAGE_CHARS_MAX + 32);
    expect(error.message).toMatch(/\.\.\.\(204806 bytes\)$/);
    expect(String(error.details?.measurement).length).toBeLessThan(ERROR_DETAIL_CHARS_MAX + 32);
    expect(error.details).toMatchObject({ line: 3, column: 'v' });
    const shape = ArcError.fromShape(error.toShape()).toShape();
    expect(JSON.stringify(shape).length).toBeLessThan(ERROR_MESSAGE_CHARS_MAX + ERROR_DETAIL_CHARS_MAX + 256);
  });
});
