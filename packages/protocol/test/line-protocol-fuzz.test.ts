// Proves with fast-check that random bytes and random mutations of valid lines never make the line protocol decoder throw or hang (every body yields rows or a bad_request error, with a bounded number of runs), and that a decoder reused across requests, with its series and key caches, decodes every body exactly as a fresh one.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rowObjects } from '@arc/columnar';
import { LineProtocolDecoder, LineProtocolPrecision, type DecodeResult } from '../src/index.js';

const RUNS = 400;
const context = { database: 'default', nowUs: 1_700_000_000_000_000, precision: LineProtocolPrecision.ns };
const encoder = new TextEncoder();
const decoder = new LineProtocolDecoder();

const VALID_LINES = [
  'cpu,host=a,region=us-east-1 usage=1.5,count=3i,ok=t,note="a \\"b\\" c" 1700000000000000000',
  'mem,host=b\\ c used=42u,free=-1.5e-3',
  'disk,path=/var/lib\\,x,host=a f\\ key=.5,s="x=y, z" -1500',
  '# comment',
  'net,if=eth0 rx=9223372036854775807i,tx=0i 1700000000123456789',
  'weather,地点=東京 気温=21.5,注="☀"',
];

/** Bytes the grammar treats specially, so mutations hit the parser's branches often. */
const SPECIAL_BYTES = [0x20, 0x2c, 0x3d, 0x22, 0x5c, 0x0a, 0x0d, 0x23, 0x69, 0x75, 0x2e, 0x2d, 0x65, 0x74, 0x66, 0x00, 0xff, 0x30, 0x39];

function assertOutcome(result: DecodeResult): void {
  if (result.ok) {
    expect(result.rowCount).toBeGreaterThan(0);
    expect(result.batches.reduce((rows, batch) => rows + batch.rowCount, 0)).toBe(result.rowCount);
  } else {
    expect(result.error.kind).toBe('bad_request');
    expect(result.error.code).toMatch(/^ARC_/);
  }
}

const mutation = fc.record({
  position: fc.nat(),
  action: fc.constantFrom('replace', 'insert', 'delete', 'duplicate'),
  byte: fc.oneof(fc.constantFrom(...SPECIAL_BYTES), fc.integer({ min: 0, max: 255 })),
});

function mutate(bytes: number[], step: { position: number; action: string; byte: number }): number[] {
  if (bytes.length === 0) return [step.byte];
  const at = step.position % bytes.length;
  const out = bytes.slice();
  if (step.action === 'replace') out[at] = step.byte;
  else if (step.action === 'insert') out.splice(at, 0, step.byte);
  else if (step.action === 'delete') out.splice(at, 1);
  else out.splice(at, 0, ...out.slice(at, at + 8));
  return out;
}

describe('LineProtocolDecoder fuzz', () => {
  it('random bytes: rows or bad_request, never a throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (body) => {
        assertOutcome(decoder.decode(body, context));
      }),
      { numRuns: RUNS },
    );
  });

  it('random text over the grammar alphabet: rows or bad_request', () => {
    const alphabet = fc.constantFrom('c', 'p', 'u', ' ', ',', '=', '"', '\\', '\n', '\r', '#', '1', '-', '.', 'e', 'i', 't', 'f', 'é');
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 200 }), (chars) => {
        assertOutcome(decoder.decode(encoder.encode(chars.join('')), context));
      }),
      { numRuns: RUNS },
    );
  });

  it('mutations of valid lines: rows or bad_request, and the decoder still works afterwards', () => {
    fc.assert(
      fc.property(fc.subarray(VALID_LINES, { minLength: 1 }), fc.array(mutation, { minLength: 1, maxLength: 6 }), (lines, steps) => {
        let bytes = Array.from(encoder.encode(lines.join('\n')));
        for (const step of steps) bytes = mutate(bytes, step);
        assertOutcome(decoder.decode(Uint8Array.from(bytes), context));
        const after = decoder.decode(encoder.encode('cpu v=1'), context);
        expect(after.ok && after.rowCount).toBe(1);
      }),
      { numRuns: RUNS },
    );
  });

  it('every valid line decodes on its own', () => {
    for (const line of VALID_LINES.filter((text) => !text.startsWith('#'))) {
      const result = decoder.decode(encoder.encode(line), context);
      expect(result.ok ? result.rowCount : result.error.message).toBe(1);
    }
  });
});

/** What a decode produced, comparable with toEqual: rows and column types, or the error. */
function outcomeOf(result: DecodeResult): unknown {
  if (!result.ok) return { error: result.error.toShape(), details: result.error.details };
  return result.batches.map((batch) => ({
    measurement: batch.measurement,
    columns: batch.columns.map((column) => `${column.name}:${column.role}:${column.type}`),
    rows: rowObjects(batch),
  }));
}

/** Series and field sets that share prefixes, escapes and names, so cached series and keys are hit and near-missed. */
const SERIES = ['cpu', 'cpu,host=a', 'cpu,host=ab', 'cpu,host=a\\ b', 'cpu,host=a\\', 'cpu,host=a,dc=x', 'cpu,dc=x,host=a', 'cpu,Host=a', 'cpu,v=t', 'c\\ pu,host=a', 'mem,host=a', 'mem,host=é', 'cpu,h\\=o\\,st=a\\=b'];
const FIELD_SETS = ['v=1i', 'v=1.5', 'v=2i,w=3u', 'w=3u,v=2i', 'host=1i', 's="a b",v=4i', 'v=1i,v=2i', 'V=1i', 'x=t', 'v=9223372036854775807i'];
const TIMES = ['', ' 1700000000000000000', ' 1700000000', ' -5'];

const line = fc.tuple(fc.constantFrom(...SERIES), fc.constantFrom(' ', '  '), fc.constantFrom(...FIELD_SETS), fc.constantFrom(...TIMES)).map((parts) => parts.join(''));

describe('LineProtocolDecoder caches', () => {
  it('a decoder reused across requests gives exactly what a fresh decoder gives', () => {
    const shared = new LineProtocolDecoder();
    fc.assert(
      fc.property(fc.array(fc.array(line, { minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 4 }), fc.array(mutation, { maxLength: 2 }), (bodies, steps) => {
        for (const [index, lines] of bodies.entries()) {
          let bytes = Array.from(encoder.encode(lines.join('\n')));
          if (index === bodies.length - 1) for (const step of steps) bytes = mutate(bytes, step);
          const body = Uint8Array.from(bytes);
          expect(outcomeOf(shared.decode(body, context))).toEqual(outcomeOf(new LineProtocolDecoder().decode(body, context)));
        }
      }),
      { numRuns: RUNS },
    );
  });
});
