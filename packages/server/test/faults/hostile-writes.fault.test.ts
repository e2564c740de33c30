// Proves that random and mutated bodies on every write endpoint (MessagePack rows and columnar, line
// protocol v1 and v2, JSON; plain, gzip and zstd) never get a 5xx, a hang over 10 s or a crash,
// and that nothing of a refused request is written: every request goes to a database of its own,
// so after a flush no database of a refused request may hold a row. Bodies come from fast-check
// with a fixed seed (ARC_FAULT_SEED overrides it to explore).
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { compress as zstdCompress } from 'zstd-napi';
import { describe, expect, it } from 'vitest';
import { msgpack } from '../support/arc-client.js';
import { mutatedBytes, utf8 } from './support/mutations.js';
import { AUTH_HEADER, NoAnswer, databaseNames, databaseRows, exchange, expectAlive, printFigures, useFaultArc } from './support/fault-kit.js';

const SEED = Number(process.env.ARC_FAULT_SEED ?? '20261205');
/** Requests per body family; five families, so 2,000 requests (~15 s on the 2-core machine). */
const RUNS_PER_FAMILY = 400;
const BODY_MAX_MB = 4;
const fault = useFaultArc({ ARC_SERVER_BODY_MAX_MB: String(BODY_MAX_MB), ARC_WRITER_FLUSH_AGE_MS: '600000' });

const T0_MS = Date.UTC(2026, 0, 1);
const T0_NS = BigInt(T0_MS) * 1_000_000n;

/** Write paths by body family (packages/server/src/write-routes.ts). */
const PATHS = {
  msgpack: ['/write/v2/msgpack', '/api/v2/msgpack', '/api/v1/write/msgpack'],
  lineProtocol: ['/write', '/api/v1/write', '/api/v2/write', '/api/v1/write/line-protocol'],
  json: ['/write/json', '/api/v1/write/json'],
} as const;
const EVERY_PATH = [...PATHS.msgpack, ...PATHS.lineProtocol, ...PATHS.json];

/** A valid body the mutations start from, and the rows it holds (all of them in one database). */
interface Seed {
  readonly body: Uint8Array;
  readonly rows: number;
}

const SEEDS: Readonly<Record<'msgpackRows' | 'msgpackColumnar' | 'lineProtocol' | 'json', readonly Seed[]>> = {
  msgpackRows: [
    { body: msgpack({ batch: [{ m: 'fz', t: T0_MS, h: 'a', tags: { region: 'eu' }, fields: { v: 1.5, n: 3, s: 'x', b: true } }, { m: 'fz', t: T0_MS + 1, h: 'b', fields: { v: 2 } }] }), rows: 2 },
    { body: msgpack([{ m: 'fz', t: T0_MS, f: [1, 2.5, 'three'] }]), rows: 1 },
  ],
  msgpackColumnar: [
    { body: msgpack({ m: 'fz', columns: { time: [T0_MS, T0_MS + 1, T0_MS + 2], host: ['a', 'b', null], v: [1.5, 2.5, 3.5], n: [1, 2, 3] } }), rows: 3 },
    { body: msgpack({ batch: [{ m: 'fz', columns: { time: [T0_MS], v: [1] } }, { m: 'fy', t: T0_MS, fields: { w: false } }] }), rows: 2 },
  ],
  lineProtocol: [
    { body: utf8(`fz,host=a,region=eu v=1.5,n=3i,u=4u,s="x \\"y\\"",b=t ${String(T0_NS)}\nfz,host=b v=2 ${String(T0_NS + 1n)}\n# comment\n\nfy w=F\n`), rows: 3 },
    { body: utf8(`fz,t\\ k=v\\,w f=1i ${String(T0_NS)}\n`), rows: 1 },
  ],
  json: [
    { body: utf8(JSON.stringify([{ measurement: 'fz', time: T0_MS, tags: { host: 'a' }, fields: { v: 1.5, s: 'x' } }, { m: 'fz', t: T0_MS + 1, fields: { v: 2 } }])), rows: 2 },
    { body: utf8(JSON.stringify({ m: 'fz', columns: { time: [T0_MS, T0_MS + 1], v: [1, 2], host: ['a', 'b'] } })), rows: 2 },
  ],
};

/** Byte sequences that stress decoders: huge declared lengths, reserved bytes, number edges, escapes. */
const HOSTILE_BYTES: readonly Uint8Array[] = [
  ...[
    [0xdd, 0xff, 0xff, 0xff, 0xff], // array32 of 4G items
    [0xdf, 0xff, 0xff, 0xff, 0xff], // map32 of 4G entries
    [0xdb, 0xff, 0xff, 0xff, 0xff], // str32 of 4 GB
    [0xc6, 0x7f, 0xff, 0xff, 0xff], // bin32 of 2 GB
    [0xc1], // never used
    [0xd7, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // timestamp 64
    [0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // uint64 max
    [0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0], // int64 min
    [0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0], // NaN
    [0xcb, 0x7f, 0xf0, 0, 0, 0, 0, 0, 0], // +Infinity
    [0x00],
    [0xff, 0xfe],
    [0xed, 0xa0, 0x80], // a UTF-8 encoded surrogate
  ].map((bytes) => Uint8Array.from(bytes)),
  ...['\n', ',', '=', ' ', '"', '\\', '#', '{', '[', '}', ']', 'null', '1e999', '-', 'NaN', 'i', 'u', '9'.repeat(40), 'é', '\u0000', '\r\n', 't=', ',,', '=='].map(utf8),
];

/** A body with its expected rows when it is a seed left whole, null when it is hostile. */
interface Body {
  readonly bytes: Uint8Array;
  readonly rows: number | null;
}

const hostile = (bodies: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Body> => bodies.map((bytes) => ({ bytes, rows: null }));

/** Mostly mutated seeds (1 to 4 changes), some left whole: those must be written, row for row. */
const fromSeeds = (seeds: readonly Seed[]): fc.Arbitrary<Body> =>
  fc.oneof(
    { weight: 1, arbitrary: fc.constantFrom(...seeds).map((seed): Body => ({ bytes: seed.body, rows: seed.rows })) },
    { weight: 8, arbitrary: hostile(mutatedBytes(seeds.map((seed) => seed.body), HOSTILE_BYTES)) },
  );

/** Values a decoder must type or refuse: every JSON kind, 64-bit edges, NaN, nesting. */
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.string({ maxLength: 20 }),
  fc.boolean(),
  fc.constant(null),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }),
  fc.jsonValue({ maxDepth: 2 }),
);
const measurementName = fc.oneof({ weight: 4, arbitrary: fc.constantFrom('fz', 'fy', 'a-b_c') }, fc.string({ maxLength: 12 }), fc.constant(''));
const timeValue = fc.oneof({ weight: 3, arbitrary: fc.constant(T0_MS) }, fc.integer(), fc.double(), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.string({ maxLength: 30 }), fc.constant(null));

const fieldName = fc.oneof({ weight: 3, arbitrary: fc.constantFrom('v', 'n', 's', 'host', 'time') }, fc.string({ maxLength: 8 }));

/** Structurally plausible documents with hostile names, times and values (rows and columnar). */
const documents: fc.Arbitrary<unknown> = fc.oneof(
  fc.array(
    fc.record(
      { m: measurementName, t: timeValue, h: fc.oneof(fc.string({ maxLength: 8 }), anyValue), tags: fc.dictionary(fieldName, anyValue, { maxKeys: 3 }), fields: fc.dictionary(fieldName, anyValue, { maxKeys: 4 }) },
      { requiredKeys: ['m'] },
    ),
    { minLength: 0, maxLength: 5 },
  ).map((rows) => ({ batch: rows })),
  fc.record({
    m: measurementName,
    columns: fc.dictionary(fc.oneof(fc.constantFrom('time', 'host', 'v'), fc.string({ maxLength: 8 })), fc.array(anyValue, { maxLength: 5 }), { maxKeys: 4 }),
  }),
  fc.jsonValue({ maxDepth: 4 }),
);

/** Random line-protocol lines assembled from hostile tokens. */
const lineToken = fc.oneof(
  fc.constantFrom('fz', 'fy', ',host=a', ',t\\ k=v\\,w', ' ', 'v=1', 'n=3i', 'u=4u', 's="x"', 'b=t', '=', ',', '"', '\\', 'i', 'u', '1e309', '-9223372036854775809i', '18446744073709551616u', String(T0_NS), '99999999999999999999999', '\n', '#'),
  fc.string({ maxLength: 6 }),
);
const lineProtocolText = fc.array(lineToken, { minLength: 1, maxLength: 24 }).map((tokens) => Uint8Array.from(Buffer.from(tokens.join(''))));

interface Family {
  readonly name: string;
  readonly paths: readonly string[];
  readonly bodies: fc.Arbitrary<Body>;
}

const FAMILIES: readonly Family[] = [
  { name: 'msgpack-rows', paths: PATHS.msgpack, bodies: fc.oneof(fromSeeds(SEEDS.msgpackRows), hostile(documents.map((value) => msgpack(value)))) },
  { name: 'msgpack-columnar', paths: PATHS.msgpack, bodies: fc.oneof(fromSeeds(SEEDS.msgpackColumnar), hostile(documents.map((value) => msgpack(value)))) },
  { name: 'line-protocol', paths: PATHS.lineProtocol, bodies: fc.oneof(fromSeeds(SEEDS.lineProtocol), hostile(lineProtocolText)) },
  { name: 'json', paths: PATHS.json, bodies: fc.oneof(fromSeeds(SEEDS.json), hostile(documents.map((value) => utf8(JSON.stringify(value, (_key, item: unknown) => (typeof item === 'bigint' ? item.toString() : item)))))) },
  { name: 'random-bytes', paths: EVERY_PATH, bodies: hostile(fc.uint8Array({ minLength: 0, maxLength: 512 })) },
];

type Wrapping = 'plain' | 'gzip' | 'zstd' | 'gzip-corrupt' | 'zstd-corrupt';

function wrap(body: Uint8Array, wrapping: Wrapping, cut: number): Uint8Array {
  if (wrapping === 'plain') return body;
  const compressed = wrapping.startsWith('gzip') ? gzipSync(body) : Uint8Array.from(zstdCompress(Buffer.from(body)));
  if (!wrapping.endsWith('corrupt')) return compressed;
  const corrupt = Buffer.from(compressed);
  const at = 4 + (cut % Math.max(1, corrupt.byteLength - 4));
  corrupt.writeUInt8((corrupt.readUInt8(Math.min(at, corrupt.byteLength - 1)) ^ 0x5a) & 0xff, Math.min(at, corrupt.byteLength - 1));
  return corrupt;
}

interface Case {
  readonly path: string;
  readonly body: Uint8Array;
  readonly wrapping: Wrapping;
  /** Rows a whole seed must write; null for a hostile body (or a seed whose compression was corrupted). */
  readonly rows: number | null;
}

function casesOf(family: Family, seed: number): Case[] {
  const wrapping = fc.constantFrom<Wrapping>('plain', 'plain', 'plain', 'gzip', 'zstd', 'gzip-corrupt', 'zstd-corrupt');
  return fc
    .sample(fc.tuple(fc.constantFrom(...family.paths), family.bodies, wrapping, fc.nat()), { numRuns: RUNS_PER_FAMILY, seed })
    .map(([path, body, how, cut]) => ({ path, body: wrap(body.bytes, how, cut), wrapping: how, rows: how.endsWith('corrupt') ? null : body.rows }));
}

/** How a request went: its status, or why there was none. */
interface Outcome {
  readonly database: string;
  readonly status: number | 'hang' | 'closed';
  readonly ms: number;
}

async function send(url: string, database: string, request: Case): Promise<Outcome> {
  const contentType = request.path.includes('msgpack') ? 'application/msgpack' : request.path.includes('json') ? 'application/json' : 'text/plain';
  const headers = { ...AUTH_HEADER, 'Content-Type': contentType, 'x-arc-database': database };
  try {
    const answer = await exchange(url, { path: request.path, headers, body: request.body });
    return { database, status: answer.status, ms: answer.ms };
  } catch (error) {
    if (error instanceof NoAnswer) return { database, status: error.reason, ms: error.ms };
    throw error;
  }
}

const describeCase = (request: Case, outcome: Outcome): string =>
  `${String(outcome.status)} for POST ${request.path} (${request.wrapping}, ${String(request.body.byteLength)} bytes, base64 ${Buffer.from(request.body.subarray(0, 300)).toString('base64')})`;

describe('hostile bodies on every write endpoint', () => {
  it('answers every random or mutated body with 204 or 4xx, within 10 s, and writes nothing of a refused one', { timeout: 300_000 }, async () => {
    const { arc, client } = fault;
    const refused = new Set<string>();
    /** Databases of whole seeds and the rows each must hold: proof that the count below sees writes. */
    const expected = new Map<string, number>();
    const statuses: Record<string, number> = {};
    const findings: string[] = [];
    let requests = 0;
    let slowestMs = 0;
    const startedAt = Date.now();
    for (const [familyIndex, family] of FAMILIES.entries()) {
      for (const [index, request] of casesOf(family, SEED + familyIndex).entries()) {
        const database = `fz${String(familyIndex)}_${String(index)}`;
        const outcome = await send(arc.url, database, request);
        requests += 1;
        slowestMs = Math.max(slowestMs, outcome.ms);
        statuses[String(outcome.status)] = (statuses[String(outcome.status)] ?? 0) + 1;
        if (outcome.status !== 204) refused.add(database);
        if (request.rows !== null) {
          expected.set(database, request.rows);
          if (outcome.status !== 204) findings.push(`${family.name}, a valid body: ${describeCase(request, outcome)}`);
        }
        if (typeof outcome.status !== 'number' || outcome.status >= 500) findings.push(`${family.name}: ${describeCase(request, outcome)}`);
        // A dead server answers nothing more: report what killed it, not a thousand refusals.
        if (arc.child.exitCode !== null) throw new Error(`the server exited after ${family.name}: ${describeCase(request, outcome)}\n${arc.output().slice(-2000)}`);
      }
    }
    expect((await client.flush()).status).toBe(200);
    const written = new Set(await databaseNames(client));
    const leaks: string[] = [];
    for (const database of refused) {
      if (!written.has(database)) continue;
      const rows = await databaseRows(client, database);
      if (rows > 0) leaks.push(`${database}: ${String(rows)} rows`);
    }
    const lost: string[] = [];
    for (const [database, rows] of expected) {
      const found = await databaseRows(client, database);
      if (found !== rows) lost.push(`${database}: ${String(found)} rows, expected ${String(rows)}`);
    }
    printFigures('hostile-writes', {
      seed: SEED,
      requests,
      statuses,
      refused: refused.size,
      whole_seeds: expected.size,
      databases_written: written.size,
      slowest_ms: slowestMs,
      seconds: Math.round((Date.now() - startedAt) / 1000),
    });
    expect(findings, findings.slice(0, 5).join('\n')).toEqual([]);
    expect(leaks, 'rows written by refused requests').toEqual([]);
    expect(lost, 'rows of acknowledged valid bodies').toEqual([]);
    expect(expected.size).toBeGreaterThan(0);
    await expectAlive(arc);
  });
});
