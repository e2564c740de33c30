// Proves the JSONPath subset selects what RFC 9535 says for the RFC's own examples that fall in
// the subset (the bookstore of section 1.5 and the selector examples of section 2.3), and refuses
// everything outside it (filters, slices, unions, malformed text) with a 400 naming the position.
import { ArcError } from '@arc/errors';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileJsonPath, pathText, queryJsonPath, singularValue, type JsonPath } from '../src/json-path.js';

function compiled(text: string): JsonPath {
  const path = compileJsonPath(text, 'test');
  if (path instanceof ArcError) throw path;
  return path;
}

function query(text: string, root: unknown): unknown[] {
  return queryJsonPath(compiled(text), root);
}

/** RFC 9535 section 1.5, figure 1. */
const STORE = {
  store: {
    book: [
      { category: 'reference', author: 'Nigel Rees', title: 'Sayings of the Century', price: 8.95 },
      { category: 'fiction', author: 'Evelyn Waugh', title: 'Sword of Honour', price: 12.99 },
      { category: 'fiction', author: 'Herman Melville', title: 'Moby Dick', isbn: '0-553-21311-3', price: 8.99 },
      { category: 'fiction', author: 'J. R. R. Tolkien', title: 'The Lord of the Rings', isbn: '0-395-19395-8', price: 22.99 },
    ],
    bicycle: { color: 'red', price: 399 },
  },
};
const AUTHORS = ['Nigel Rees', 'Evelyn Waugh', 'Herman Melville', 'J. R. R. Tolkien'];

describe('RFC 9535 bookstore examples (section 1.5)', () => {
  it('$.store.book[*].author: the authors of all books', () => {
    expect(query('$.store.book[*].author', STORE)).toEqual(AUTHORS);
  });
  it('$..author: all authors', () => {
    expect(query('$..author', STORE)).toEqual(AUTHORS);
  });
  it('$.store.*: all things in the store', () => {
    expect(query('$.store.*', STORE)).toEqual([STORE.store.book, STORE.store.bicycle]);
  });
  it('$.store..price: the prices of everything in the store', () => {
    expect(query('$.store..price', STORE).sort()).toEqual([12.99, 22.99, 399, 8.95, 8.99].sort());
  });
  it('$..book[2]: the third book', () => {
    expect(query('$..book[2]', STORE)).toEqual([STORE.store.book[2]]);
  });
  it('$..book[2].author and $..book[2].publisher (nothing)', () => {
    expect(query('$..book[2].author', STORE)).toEqual(['Herman Melville']);
    expect(query('$..book[2].publisher', STORE)).toEqual([]);
  });
  it('$..book[-1]: the last book in order', () => {
    expect(query('$..book[-1]', STORE)).toEqual([STORE.store.book[3]]);
  });
  it('$..*: all member values and array elements (27 nodes)', () => {
    expect(query('$..*', STORE)).toHaveLength(27);
  });
});

describe('RFC 9535 selector examples (section 2.3)', () => {
  const names = { o: { 'j j': { 'k.k': 3 } }, "'": { '@': 2 } };
  it("name selectors: $.o['j j'], $.o['j j']['k.k'], $.o[\"j j\"][\"k.k\"], $[\"'\"][\"@\"]", () => {
    expect(query("$.o['j j']", names)).toEqual([{ 'k.k': 3 }]);
    expect(query("$.o['j j']['k.k']", names)).toEqual([3]);
    expect(query('$.o["j j"]["k.k"]', names)).toEqual([3]);
    expect(query('$["\'"]["@"]', names)).toEqual([2]);
  });
  const mixed = { o: { j: 1, k: 2 }, a: [5, 3] };
  it('wildcard selectors: $[*], $.o[*], $.a[*]', () => {
    expect(query('$[*]', mixed)).toEqual([{ j: 1, k: 2 }, [5, 3]]);
    expect(query('$.o[*]', mixed)).toEqual([1, 2]);
    expect(query('$.a[*]', mixed)).toEqual([5, 3]);
  });
  const letters = ['a', 'b'];
  it('index selectors: $[1], $[-2], and out of range selects nothing', () => {
    expect(query('$[1]', letters)).toEqual(['b']);
    expect(query('$[-2]', letters)).toEqual(['a']);
    expect(query('$[2]', letters)).toEqual([]);
    expect(query('$[-3]', letters)).toEqual([]);
  });
  const nested = { o: { j: 1, k: 2 }, a: [5, 3, [{ j: 4 }, { k: 6 }]] };
  it('descendant segments: $..j, $..[0]', () => {
    expect(query('$..j', nested)).toEqual([1, 4]);
    expect(query('$..[0]', nested)).toEqual([5, { j: 4 }]);
  });
  it('a selector on the wrong kind of node selects nothing', () => {
    expect(query('$.a.j', nested)).toEqual([]);
    expect(query('$.o[0]', nested)).toEqual([]);
    expect(query('$.o.j.k', nested)).toEqual([]);
  });
  it("quoted names take JSON escapes and \\' inside single quotes", () => {
    expect(query("$['a\\'b']", { "a'b": 1 })).toEqual([1]);
    expect(query('$["\\u00e9t\\u00e9"]', { été: 2 })).toEqual([2]);
    expect(query("$['tab\\there']", { 'tab\there': 3 })).toEqual([3]);
  });
  it('blank space inside brackets and between segments is allowed', () => {
    expect(query("$[ 'o' ][ 'j' ]", nested)).toEqual([1]);
    expect(query('$ .o\n.j', nested)).toEqual([1]);
  });
});

describe('singular paths', () => {
  it('names and indexes are singular and read one value; * and .. are not', () => {
    expect(compiled('$.a[0].b').singular).toBe(true);
    expect(compiled('$').singular).toBe(true);
    expect(compiled('$.a[*]').singular).toBe(false);
    expect(compiled('$..b').singular).toBe(false);
    expect(singularValue(compiled('$.a[1].b'), { a: [{ b: 1 }, { b: 2 }] })).toBe(2);
    expect(singularValue(compiled('$.a[-1].b'), { a: [{ b: 1 }, { b: 2 }] })).toBe(2);
    expect(singularValue(compiled('$.a.c'), { a: [] })).toBeUndefined();
    expect(singularValue(compiled('$.x'), { x: null })).toBeNull();
  });
  it('an inherited property is no member', () => {
    expect(singularValue(compiled('$.constructor'), {})).toBeUndefined();
    expect(query('$.toString', {})).toEqual([]);
  });
  it('pathText writes paths the compiler reads back', () => {
    const text = pathText(['data', null, 'a b', 2, "it's"]);
    expect(text).toBe("$.data[*]['a b'][2]['it\\'s']");
    expect(query(text, { data: [{ 'a b': [0, 1, { "it's": 'x' }] }] })).toEqual(['x']);
  });
});

describe('refused expressions name the position', () => {
  const cases: [string, number, RegExp][] = [
    ['', 0, /starts with '\$'/],
    ['data', 0, /starts with '\$'/],
    ['$data', 1, /expected '\.', '\.\.' or '\['/],
    ['$.', 2, /member name/],
    ['$.1a', 2, /member name/],
    ['$[?@.isbn]', 2, /filter expressions/],
    ['$..book[?@.price<10]', 8, /filter expressions/],
    ['$[0:2]', 3, /slices/],
    ['$[:2]', 2, /slices/],
    ['$[0,1]', 3, /unions/],
    ["$['a','b']", 5, /unions/],
    ['$[01]', 2, /leading zeros/],
    ['$[-0]', 2, /leading zeros/],
    ['$[1', 3, /expected '\]'/],
    ["$['a", 2, /no closing quote/],
    ["$['\\x']", 3, /unknown escape/],
    ['$[length(@)]', 2, /quoted name, an index or '\*'/],
    ['$.a b', 4, /expected '\.', '\.\.' or '\['/],
    ['$...a', 3, /member name/],
    ['$.a ', 3, /blank space at the end/],
  ];
  for (const [text, position, message] of cases) {
    it(`'${text}' at ${position}`, () => {
      const result = compileJsonPath(text, 'mapping.records');
      expect(result).toBeInstanceOf(ArcError);
      const error = result as ArcError;
      expect(error.code).toBe('ARC_IMPORT_BAD_JSON_PATH');
      expect(error.kind).toBe('bad_request');
      expect(error.message).toMatch(message);
      expect(error.message).toContain('mapping.records');
      expect(error.details).toEqual({ field: 'mapping.records', position });
    });
  }
  it('any text compiles or is refused, never throws; a compiled path queries any JSON without throwing', () => {
    const alphabet = ['$', '.', '..', '[', ']', '*', "'", '"', '\\', '-', '0', '1', '2', '9', 'a', 'b', ' ', '?', ':', ',', '@', 'é'];
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...alphabet), maxLength: 14 }), fc.jsonValue(), (tail, json) => {
        const result = compileJsonPath(`$${tail}`, 'f');
        if (result instanceof ArcError) return result.code === 'ARC_IMPORT_BAD_JSON_PATH';
        queryJsonPath(result, json);
        singularValue(result, json);
        return true;
      }),
      { numRuns: 5000 },
    );
  });
});
