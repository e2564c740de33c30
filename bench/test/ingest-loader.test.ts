// Proves that bench/ingest generates the TSBS cpu-only data of docs/benchmarks.md deterministically and
// that ingest.mjs (run as the real CLI against a fake Arc that decodes every body) reports exactly
// the rows the server received, in the documented JSON line, even through 503 retries.
import { runScript, type ScriptRun } from './run-script.js';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Unpackr } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeArc } from './fake-arc-server.mjs';
import {
  ARCH_VALUES,
  DATACENTERS,
  FIELD_KEYS,
  INTERVAL_MS,
  OS_VALUES,
  REGIONS,
  SERVICE_ENVIRONMENT_VALUES,
  SERVICE_VERSION_VALUES,
  START_MS,
  TAG_KEYS,
  TEAM_VALUES,
  TsbsCpu,
  encode,
  timeOffsets,
  tsbsCpuRows,
  writeInt64Ms,
  writeLineProtocolMs,
} from '../ingest/tsbs.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(HERE, '..', '..');
const INGEST = path.join(REPO_ROOT, 'bench', 'ingest', 'ingest.mjs');
const unpackr = new Unpackr({ useRecords: false });

function runCli(args: string[]): Promise<ScriptRun> {
  return runScript(INGEST, args);
}

describe('TSBS cpu-only generator', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const a = new TsbsCpu({ seed: 7 }).rows(2000);
    const b = new TsbsCpu({ seed: 7 }).rows(2000);
    const c = new TsbsCpu({ seed: 8 }).rows(2000);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    const ga = new TsbsCpu();
    const gb = new TsbsCpu();
    expect(encode('columnar', ga.next(1000), ga.tags).equals(encode('columnar', gb.next(1000), gb.tags))).toBe(true);
    expect(encode('rows', ga.next(500), ga.tags).equals(encode('rows', gb.next(500), gb.tags))).toBe(true);
  });

  it('matches docs/benchmarks.md: tags, fields, 10 s step, all hosts per instant', () => {
    const hosts = 100;
    const instants = 360; // 1 h
    const rows = [...tsbsCpuRows({ hosts, rows: hosts * instants })];
    expect(rows).toHaveLength(hosts * instants);
    // Checked in plain JS and asserted once (36,000 rows x 30 expect() calls is slow).
    const problems: string[] = [];
    const check = (ok: boolean, what: string) => {
      if (!ok && problems.length < 20) problems.push(what);
    };
    const tagsOf = new Map<string, string>();
    const tagKeys = JSON.stringify(TAG_KEYS);
    const fieldKeys = JSON.stringify(FIELD_KEYS);
    const isIntString = (s: string, max: number) => /^(0|[1-9][0-9]*)$/.test(s) && Number(s) <= max;
    for (const [i, row] of rows.entries()) {
      const t = row.tags;
      const at = `row ${i}`;
      // instant-major, host-minor, 10 s apart, from 2016-01-01T00:00:00Z
      check(row.time === START_MS + Math.floor(i / hosts) * INTERVAL_MS, `${at}: time ${row.time}`);
      check(t.hostname === `host_${i % hosts}`, `${at}: hostname ${t.hostname}`);
      check(JSON.stringify(Object.keys(t)) === tagKeys, `${at}: tag keys`);
      check(JSON.stringify(Object.keys(row.fields)) === fieldKeys, `${at}: field keys`);
      check(REGIONS.includes(t.region as (typeof REGIONS)[number]), `${at}: region ${t.region}`);
      const dcs: readonly string[] = Object.hasOwn(DATACENTERS, t.region) ? DATACENTERS[t.region as keyof typeof DATACENTERS] : [];
      check(dcs.includes(t.datacenter) && new RegExp(`^${t.region}[a-z]$`).test(t.datacenter), `${at}: datacenter ${t.datacenter}`);
      check(isIntString(t.rack, 99), `${at}: rack ${t.rack}`);
      check(OS_VALUES.includes(t.os), `${at}: os ${t.os}`);
      check(ARCH_VALUES.includes(t.arch), `${at}: arch ${t.arch}`);
      check(TEAM_VALUES.includes(t.team), `${at}: team ${t.team}`);
      check(isIntString(t.service, 19), `${at}: service ${t.service}`);
      check(SERVICE_VERSION_VALUES.includes(t.service_version), `${at}: service_version ${t.service_version}`);
      check(SERVICE_ENVIRONMENT_VALUES.includes(t.service_environment), `${at}: service_environment ${t.service_environment}`);
      for (const v of Object.values(row.fields)) check(Number.isInteger(v) && v >= 0 && v <= 100, `${at}: field ${v}`);
      // tags fixed per host
      const key = JSON.stringify(t);
      const seen = tagsOf.get(t.hostname);
      if (seen === undefined) tagsOf.set(t.hostname, key);
      else check(key === seen, `${at}: tags of ${t.hostname} changed`);
    }
    expect(problems).toEqual([]);
    expect(tagsOf.size).toBe(hosts);
    expect(new Set(rows.map((r) => r.time)).size).toBe(instants);
    // 100 hosts at every instant
    const perInstant = new Map<number, number>();
    for (const r of rows) perInstant.set(r.time, (perInstant.get(r.time) ?? 0) + 1);
    expect([...perInstant.values()].every((n) => n === hosts)).toBe(true);
    // fields are random walks: they move, but by at most one step per instant
    const h0 = rows.filter((r) => r.tags.hostname === 'host_0').map((r) => r.fields.usage_user);
    expect(new Set(h0).size).toBeGreaterThan(5);
    expect(h0.slice(1).every((v, i) => Math.abs(v - h0[i]!) <= 5)).toBe(true);
    // the tag values spread over their sets
    expect(new Set(rows.slice(0, hosts).map((r) => r.tags.region)).size).toBeGreaterThan(5);
  });

  it('encodes both wire shapes with integer times and fields, re-stampable in place', () => {
    const gen = new TsbsCpu();
    const chunk = gen.next(250);
    const col = encode('columnar', chunk, gen.tags);
    expect(col.includes(Buffer.from([0xcb]))).toBe(false); // no float64 anywhere
    const decoded = unpackr.unpack(col);
    expect(decoded.m).toBe('cpu');
    expect(Object.keys(decoded.columns)).toEqual(['time', ...TAG_KEYS, ...FIELD_KEYS]);
    expect(decoded.columns.time[0]).toBe(BigInt(START_MS)); // int64 on the wire
    expect(decoded.columns.usage_user.every((v: unknown) => Number.isInteger(v))).toBe(true);

    const rows = encode('rows', chunk, gen.tags);
    const rdec = unpackr.unpack(rows);
    expect(rdec.batch).toHaveLength(250);
    expect(Object.keys(rdec.batch[0])).toEqual(['m', 't', 'tags', 'fields']);
    expect(rdec.batch[0].h).toBeUndefined();
    expect(rdec.batch[0].tags.hostname).toBe('host_0');

    for (const [format, body] of [['columnar', col], ['rows', rows]] as const) {
      const offs = timeOffsets(body, format, 250);
      const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
      offs.forEach((o, i) => writeInt64Ms(view, o, 1_700_000_000_000 + i));
      const d = unpackr.unpack(body);
      const times: bigint[] = format === 'columnar' ? d.columns.time : d.batch.map((r: { t: bigint }) => r.t);
      expect(times).toEqual(Array.from({ length: 250 }, (_, i) => BigInt(1_700_000_000_000 + i)));
    }
  });

  it('encodes line protocol as TSBS does, with ns timestamps re-stampable in place', () => {
    const gen = new TsbsCpu();
    const chunk = gen.next(250);
    const body = encode('lp', chunk, gen.tags);
    const lines = body.toString('utf8').split('\n');
    expect(lines).toHaveLength(251);
    expect(lines[250]).toBe('');
    const first = lines[0] ?? '';
    expect(first).toMatch(/^cpu,hostname=host_0,region=[a-z0-9-]+,.*,service_environment=\w+ usage_user=\d+i,.*,usage_guest_nice=\d+i 1451606400000000000$/);
    expect(first.split(' ')[1]?.split(',').map((pair) => pair.split('=')[0])).toEqual([...FIELD_KEYS]);
    const offs = timeOffsets(body, 'lp', 250);
    offs.forEach((o, i) => writeLineProtocolMs(body, o, 1_700_000_000_000 + i));
    const times = body.toString('utf8').trimEnd().split('\n').map((line) => line.slice(line.lastIndexOf(' ') + 1));
    expect(times).toEqual(Array.from({ length: 250 }, (_, i) => `${1_700_000_000_000 + i}000000`));
  });
});

describe('JSON rows and the Arc-Go shape', () => {
  it('encodes JSON rows for POST /write/json with 13-digit ms times re-stampable in place', () => {
    const gen = new TsbsCpu();
    const chunk = gen.next(120);
    const body = encode('json', chunk, gen.tags);
    const parsed = JSON.parse(body.toString('utf8'));
    expect(parsed.batch).toHaveLength(120);
    expect(parsed.batch[0]).toEqual({ m: 'cpu', t: START_MS, tags: gen.tags[0], fields: expect.any(Object) });
    expect(Object.keys(parsed.batch[0].fields)).toEqual([...FIELD_KEYS]);
    expect(parsed.batch[101].t).toBe(START_MS + INTERVAL_MS); // host_1 of the second instant
    const offs = timeOffsets(body, 'json', 120);
    offs.forEach((o, i) => writeLineProtocolMs(body, o, 1_700_000_000_000 + i));
    const times = JSON.parse(body.toString('utf8')).batch.map((row: { t: number }) => row.t);
    expect(times).toEqual(Array.from({ length: 120 }, (_, i) => 1_700_000_000_000 + i));
  });

  it('encodes the arc-go shape as 5 columns, float64 values, int64 times', () => {
    const gen = new TsbsCpu({ hosts: 7 });
    const chunk = gen.next(50);
    const body = encode('columnar', chunk, gen.tags, 'arc-go');
    const decoded = unpackr.unpack(body);
    expect(decoded.m).toBe('cpu');
    expect(Object.keys(decoded.columns)).toEqual(['time', 'host', 'value', 'cpu_idle', 'cpu_user']);
    expect(decoded.columns.host.slice(0, 8)).toEqual(['host_0', 'host_1', 'host_2', 'host_3', 'host_4', 'host_5', 'host_6', 'host_0']);
    for (const name of ['value', 'cpu_idle', 'cpu_user']) {
      expect(decoded.columns[name].every((v: number) => !Number.isInteger(v) && v > 0 && v < 101)).toBe(true);
    }
    expect(decoded.columns.cpu_user[3]).toBe((chunk.fields[FIELD_KEYS.indexOf('usage_user')]![3] ?? -1) + 0.5);
    const offs = timeOffsets(body, 'columnar', 50);
    const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    offs.forEach((o, i) => writeInt64Ms(view, o, 1_700_000_000_000 + i));
    expect(unpackr.unpack(body).columns.time[49]).toBe(BigInt(1_700_000_000_049));
    expect(() => encode('rows', chunk, gen.tags, 'arc-go')).toThrow('the arc-go shape is columnar msgpack only');
  });
});

describe('ingest.mjs against a fake Arc', () => {
  let fake: Awaited<ReturnType<typeof startFakeArc>>;
  beforeAll(async () => {
    fake = await startFakeArc({ token: 'tok', trackKeys: true, fail503Every: 9 });
  });
  afterAll(async () => {
    await fake.close();
  });

  it.each(['columnar', 'rows'] as const)('%s: rows_acked equals rows the server decoded', async (format) => {
    const database = `t_${format}`;
    // a small pool forces the loader to re-stamp reused bodies: keys must stay distinct
    const { code, stdout, stderr } = await runCli([
      '--url', fake.url, '--token', 'tok', '--database', database, '--format', format,
      '--batch', '200', '--connections', '4', '--threads', '2', '--seconds', '1.5',
      '--pool-rows', '2000', '--json',
    ]);
    expect(code, stderr).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!);
    expect(Object.keys(line)).toEqual(expect.arrayContaining([
      'format', 'batch', 'connections', 'seconds', 'rows_acked', 'rows_per_s', 'requests',
      'errors_by_status', 'latency_ms', 'server_cpu_seconds', 'rows_per_server_cpu_s',
      'rows_read_back', 'read_back_ok', 'date', 'node', 'cpu',
    ]));
    expect(line).toMatchObject({ format, batch: 200, connections: 4, seconds: 1.5, database, read_back_ok: true });
    const counted = fake.stats.rowsByDb.get(database);
    expect(line.rows_acked).toBeGreaterThan(0);
    expect(line.rows_acked).toBe(counted);
    expect(line.rows_read_back).toBe(counted);
    expect(fake.stats.keysByDb.get(database)?.size).toBe(counted); // no (hostname, time) sent twice
    expect(line.rows_acked % 200).toBe(0);
    const refused: number = line.errors_by_status['503'];
    expect(refused).toBeGreaterThan(0); // the fake rejects every 9th write
    expect(line.requests).toBe(line.rows_acked / 200 + refused);
    expect(line.rows_per_s).toBeGreaterThan(0);
    for (const q of ['p50', 'p95', 'p99'] as const) expect(typeof line.latency_ms[q]).toBe('number');
    expect(line.latency_ms.p50).toBeLessThanOrEqual(line.latency_ms.p99);
    expect(line.server_cpu_seconds).toBeNull(); // no --server-pid, no --spawn
    expect(line.node).toBe(process.version);
    expect(fake.stats.nonIntegerTimes).toBe(0);
    expect(fake.stats.nonIntegerFields).toBe(0);
  });

  it('threads with unequal shares of the connections still send one contiguous stretch of the stream', async () => {
    // 3 connections on 2 threads: one thread sends about twice the requests of the other. With a
    // cursor per thread that thread ran ahead through the stream (its rows ~1.3x as far as the
    // rows acked reach); taking the batches in one shared order keeps every row sent within the
    // pool's length (10 batches) of the rows acked.
    const contiguous = await startFakeArc({ token: 'tok', trackKeys: true });
    try {
      const database = 't_contiguous';
      const batch = 200;
      const poolBatches = 10;
      const { code, stderr, stdout } = await runCli([
        '--url', contiguous.url, '--token', 'tok', '--database', database, '--batch', String(batch),
        '--connections', '3', '--threads', '2', '--seconds', '1.5', '--pool-rows', String(batch * poolBatches), '--json',
      ]);
      expect(code, stderr).toBe(0);
      const line = JSON.parse(stdout.trim());
      const keys = contiguous.stats.keysByDb.get(database) ?? new Set<string>();
      expect(keys.size).toBe(line.rows_acked);
      const hosts = 100;
      const instants = new Set([...keys].map((key) => Number(key.slice(key.indexOf('|') + 1))));
      expect(instants.size * hosts).toBe(line.rows_acked); // whole instants: every host of each
      const lastInstant = (Math.max(...instants) - START_MS) / INTERVAL_MS;
      expect(line.rows_acked / hosts).toBeGreaterThan(20 * poolBatches * (batch / hosts)); // the pool went round 20 times at least
      expect(lastInstant).toBeLessThan(line.rows_acked / hosts + poolBatches * (batch / hosts));
    } finally {
      await contiguous.close();
    }
  });

  it('--spawn starts the server entry, measures its CPU, runs 2 times and prints medians', async () => {
    const { code, stdout, stderr } = await runCli([
      '--spawn', '--server-entry', path.join(HERE, 'fake-arc-server.mjs'),
      '--seconds', '1', '--runs', '2', '--connections', '2', '--threads', '1', '--json',
    ]);
    expect(code, stderr).toBe(0);
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(3);
    expect(lines.map((l) => l.database)).toEqual(['bench_1', 'bench_2', undefined]);
    for (const l of lines.slice(0, 2)) {
      expect(l.read_back_ok).toBe(true);
      expect(l.rows_read_back).toBe(l.rows_acked);
      expect(typeof l.server_cpu_seconds).toBe('number');
    }
    expect(lines[2]).toMatchObject({ summary: 'median', runs: 2, read_back_ok: true });
  });
});
