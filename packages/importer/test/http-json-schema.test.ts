// Proves schema discovery on a real local HTTP server's answer: it lists the arrays of objects as
// `records` candidates (most records first), each with its leaf paths, JSON types, samples and
// distinct counts, and suggests a mapping (time by name and parse, tags = short repeated strings,
// fields = numbers and booleans) that the driver then reads without change.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HTTP_JSON_DRIVER } from '../src/http-json-driver.js';
import { discoverHttpJsonSchema, findRecordArrays } from '../src/http-json-schema.js';
import type { SourceConnection } from '../src/source.js';

const READINGS = Array.from({ length: 12 }, (_, index) => ({
  timestamp: `2024-03-01T00:${String(index).padStart(2, '0')}:00Z`,
  device: { id: `dev-${index % 3}`, site: 'north' },
  temperature: 20 + index / 4,
  on: index % 2 === 0,
  note: `free text number ${index}`,
  history: [1, 2],
}));
const ANSWER = { meta: { count: 12, owners: [{ name: 'x' }] }, readings: READINGS, next: null };

let server: Server;
let connection: SourceConnection;

beforeAll(async () => {
  server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(ANSWER));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  connection = { type: 'http-json', settings: { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api` }, secret: null };
});

afterAll(async () => {
  server.close();
  await once(server, 'close');
});

describe('schema discovery', () => {
  it('finds the arrays of objects, most records first; arrays of numbers are not records', () => {
    expect(findRecordArrays(ANSWER).map((array) => [array.path, array.records.length])).toEqual([
      ['$.readings[*]', 12],
      ['$.meta.owners[*]', 1],
    ]);
    expect(findRecordArrays([{ a: 1 }]).map((array) => array.path)).toEqual(['$[*]']);
    expect(findRecordArrays({ a: [1, 2], b: 'x' })).toEqual([]);
  });

  it('describes the leaves and suggests a mapping the driver reads', async () => {
    const schema = await discoverHttpJsonSchema(connection, {}, new AbortController().signal);
    expect(schema.status).toBe(200);
    const [readings] = schema.candidates;
    expect(readings?.records).toBe('$.readings[*]');
    expect(readings?.record_count).toBe(12);
    expect(readings?.leaves.map((leaf) => [leaf.path, leaf.types, leaf.distinct])).toEqual([
      ['$.timestamp', ['string'], 12],
      ['$.device.id', ['string'], 3],
      ['$.device.site', ['string'], 1],
      ['$.temperature', ['number'], 12],
      ['$.on', ['boolean'], 2],
      ['$.note', ['string'], 12],
      ['$.history', ['array'], 1],
    ]);
    expect(readings?.leaves[1]?.samples).toEqual(['dev-0', 'dev-1', 'dev-2']);
    const mapping = readings?.suggested_mapping;
    expect(mapping).toEqual({
      records: '$.readings[*]',
      time: '$.timestamp',
      measurement: 'readings',
      tags: { device_id: '$.device.id', device_site: '$.device.site' },
      fields: { temperature: '$.temperature', on: '$.on' },
    });
    const reader = await HTTP_JSON_DRIVER.open(connection, { mapping }, null, { startNs: null, endNs: null, chunkBytesMax: 1 << 20, chunkRowsMax: 100, signal: new AbortController().signal });
    const chunk = await reader.next();
    expect(chunk?.rowCount).toBe(12);
    expect(new TextDecoder().decode(chunk?.body).split('\n')[0]).toBe('readings,device_id=dev-0,device_site=north temperature=20.0,on=t 1709251200000000000');
  });

  it('suggests no time when no leaf named like one parses as a time', async () => {
    const [owners] = (await discoverHttpJsonSchema(connection, {}, new AbortController().signal)).candidates.slice(1);
    expect(owners?.suggested_mapping.time).toBeNull();
  });
});
