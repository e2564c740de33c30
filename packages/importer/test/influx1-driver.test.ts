// The InfluxDB 1.x driver against a real influxd: seeded rows of every type and awkward name come
// out exactly once as line protocol that InfluxDB itself reads back to the same answers, a reader
// reopened at any chunk's cursor goes on exactly after that chunk, the range bounds hold, and the
// connection test names the step that fails.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { driverFor, SourceType, type SourceChunk, type SourceConnection } from '@arc/importer';
import { influxdAvailable, startInfluxd, useInfluxd, type InfluxdProcess } from '../../server/test/support/influxd-process.js';
import { freePort } from '../../server/test/support/arc-process.js';

const available = influxdAvailable();
const driver = driverFor(SourceType.influx1);

const DAY_NS = 86_400_000_000_000n;
const T0 = 1_700_000_000_000_000_000n;
const HOSTS = ['host_0', 'host_1', 'host_2', 'host_3', 'host_4'];
const CPU_FIELDS = ['usage_user', 'usage_system', 'usage_idle', 'usage_nice', 'usage_iowait', 'usage_irq', 'usage_softirq', 'usage_steal', 'usage_guest', 'usage_guest_nice'];
/** Every 6 hours over 10 days: the rows span two or three 7-day shard groups. */
const CPU_TIMES = Array.from({ length: 40 }, (_, index) => T0 + (BigInt(index) * DAY_NS) / 4n);

function cpuLines(): string[] {
  const lines: string[] = [];
  CPU_TIMES.forEach((timeNs, timeIndex) => {
    HOSTS.forEach((host, hostIndex) => {
      const fields = CPU_FIELDS.map((name, fieldIndex) => `${name}=${String((timeIndex * 7 + hostIndex * 13 + fieldIndex) % 100)}.${String(fieldIndex + 1)}`);
      lines.push(`cpu,hostname=${host},region=eu-west-${String(hostIndex % 2)} ${fields.join(',')} ${timeNs.toString()}`);
    });
  });
  return lines;
}

const EDGE_LINES = [
  `edge int_max=9223372036854775807i,int_min=-9223372036854775808i,flag=true ${T0.toString()}`,
  `edge,place=a\\ b\\,c\\=d text="say \\"hi\\" \\\\ back\\\\slash",flag=false,float_max=1.7976931348623157e+308 ${(T0 + 1n).toString()}`,
  `edge,place=line text="two\nlines",tiny=5e-324 ${(T0 + 2n).toString()}`,
  `m\\ a\\,b,t\\ k=v\\ 1\\,\\=2 s="x" ${T0.toString()}`,
  `q"uote v=1i ${T0.toString()}`,
  `clash,host=a host=3,other=1i ${T0.toString()}`,
  `clash,host=b host=4 ${(T0 + 9n * DAY_NS).toString()}`,
  // One field, three types in three shards.
  `mixed x=1.5 ${T0.toString()}`,
  `mixed x=2i ${(T0 + 8n * DAY_NS).toString()}`,
  `mixed x="three" ${(T0 + 16n * DAY_NS).toString()}`,
];
const MEASUREMENTS = ['clash', 'cpu', 'edge', 'm a,b', 'mixed', 'q"uote'];
const ROW_COUNT = HOSTS.length * CPU_TIMES.length + EDGE_LINES.length;

/** The typed column lists that answer every value, whatever its shard's type (SELECT * drops some). */
const TYPED_SELECTS: Readonly<Record<string, string>> = { mixed: 'SELECT x::float, x::string FROM mixed', clash: 'SELECT host::tag, host::field, other FROM clash' };

const signal = new AbortController().signal;

function connectionOf(url: string, database = 'src', extra: Record<string, unknown> = {}, secret: string | null = null): SourceConnection {
  return { type: SourceType.influx1, settings: driver.checkSettings({ version: 1, url, database, ...extra }), secret };
}

async function readAll(connection: SourceConnection, cursor: string | null, options: { rows?: number; bytes?: number; startNs?: bigint | null; endNs?: bigint | null; source?: Record<string, unknown> } = {}): Promise<SourceChunk[]> {
  const reader = await driver.open(connection, options.source ?? {}, cursor, {
    startNs: options.startNs ?? null,
    endNs: options.endNs ?? T0 + 30n * DAY_NS,
    chunkRowsMax: options.rows ?? 1000,
    chunkBytesMax: options.bytes ?? 1 << 20,
    signal,
  });
  const chunks: SourceChunk[] = [];
  for (let chunk = await reader.next(); chunk !== null; chunk = await reader.next()) chunks.push(chunk);
  await reader.close();
  return chunks;
}

function linesOf(chunks: readonly SourceChunk[]): string[] {
  return chunks.flatMap((chunk) => {
    const text = Buffer.from(chunk.body).toString();
    expect(text.endsWith('\n')).toBe(true);
    // A string value may hold a line break: split only where a line ends in its timestamp.
    return text.slice(0, -1).split(/(?<= -?\d+)\n/);
  });
}

describe.skipIf(!available)('InfluxDB 1.x driver', () => {
  const server = useInfluxd();
  let connection: SourceConnection;

  beforeAll(async () => {
    const { influxd } = server;
    await influxd.write('src', [...cpuLines(), ...EDGE_LINES].join('\n'));
    connection = connectionOf(influxd.url);
  });

  it('reads every row once, and InfluxDB reads the lines back to the same answers', async () => {
    const { influxd } = server;
    const chunks = await readAll(connection, null, { rows: 7 });
    const lines = linesOf(chunks);
    expect(lines.length).toBe(ROW_COUNT);
    expect(new Set(lines).size).toBe(ROW_COUNT);
    expect(chunks.reduce((sum, chunk) => sum + chunk.rowCount, 0)).toBe(ROW_COUNT);
    expect(lines).toContain(`edge flag=t,int_max=9223372036854775807i,int_min=-9223372036854775808i ${T0.toString()}`);
    expect(chunks.at(-1)?.progress).toBe(1);
    for (const chunk of chunks) expect(chunk.rowCount).toBeLessThanOrEqual(7);
    await influxd.write('copy', lines.join('\n'));
    for (const measurement of MEASUREMENTS) {
      const from = `"${measurement.replace(/"/g, '\\"')}"`;
      // A field of float and integer shards is read as float (as InfluxQL answers it): its keys differ, checked below.
      const fieldKeys = measurement === 'mixed' ? [] : [`SHOW FIELD KEYS FROM ${from}`];
      const statements = [`SELECT * FROM ${from}`, ...fieldKeys, `SHOW TAG KEYS FROM ${from}`, TYPED_SELECTS[measurement]].filter((q) => q !== undefined);
      for (const statement of statements) {
        const source = await influxd.query(statement, { db: 'src', epoch: 'ns' });
        const copy = await influxd.query(statement, { db: 'copy', epoch: 'ns' });
        expect(copy.text, statement).toBe(source.text);
        if (statement.startsWith('SELECT')) expect(source.text, statement).toContain('"values"');
      }
    }
  });

  it('reads a field typed differently in different shards: float and integer as float, a string as a string', async () => {
    const lines = linesOf(await readAll(connection, null, { source: { measurements: ['mixed'] } }));
    expect(lines).toEqual([`mixed x=1.5 ${T0.toString()}`, `mixed x=2.0 ${(T0 + 8n * DAY_NS).toString()}`, `mixed x="three" ${(T0 + 16n * DAY_NS).toString()}`]);
  });

  it('unsigned: InfluxDB 1.6 refuses `u` values on write; a server that takes them is read back as `u`', async () => {
    const { influxd } = server;
    const line = `unsigned v=18446744073709551615u ${T0.toString()}`;
    const accepted = await influxd.write('unsigned', line).then(
      () => true,
      (error: unknown) => {
        expect(String(error)).toMatch(/invalid number/);
        return false;
      },
    );
    if (accepted) expect(linesOf(await readAll(connectionOf(influxd.url, 'unsigned'), null))).toEqual([line]);
  });

  it('chunks in time order within a measurement, each in one measurement', async () => {
    const chunks = await readAll(connection, null, { rows: 3 });
    for (const chunk of chunks) expect(chunk.measurements.length).toBe(1);
    const cpu = chunks.filter((chunk) => chunk.measurements[0] === 'cpu');
    for (let index = 1; index < cpu.length; index += 1) expect((cpu[index] as SourceChunk).minTimeNs).toBeGreaterThanOrEqual((cpu[index - 1] as SourceChunk).maxTimeNs);
    // 5 rows share each cpu timestamp: 3-row chunks split timestamps, and still every row comes once.
    expect(cpu.some((chunk) => chunk.rowCount === 3 && chunk.minTimeNs === chunk.maxTimeNs)).toBe(true);
  });

  // Each reading: rows per chunk, bytes per chunk (one cpu line is about 250 bytes).
  const READINGS: readonly (readonly [number, number])[] = [
    [7, 1 << 20],
    // 2 rows per chunk: a 5-row timestamp spans three chunks, the middle one all within it.
    [2, 1 << 20],
    [1000, 700],
  ];
  for (const [rows, bytes] of READINGS) {
    it(`a reader reopened at any chunk's cursor goes on exactly after it (${String(rows)} rows, ${String(bytes)} bytes per chunk)`, async () => {
      const chunks = await readAll(connection, null, { rows, bytes });
      const all = linesOf(chunks);
      expect(all.length).toBe(ROW_COUNT);
      for (const chunk of chunks) expect(chunk.body.byteLength).toBeLessThanOrEqual(bytes);
      let before = 0;
      for (let index = 0; index < chunks.length; index += 1) {
        const chunk = chunks[index] as SourceChunk;
        before += chunk.rowCount;
        const reopened = await driver.open(connection, {}, chunk.cursor, { startNs: null, endNs: T0 + 30n * DAY_NS, chunkRowsMax: rows, chunkBytesMax: bytes, signal });
        const following = await reopened.next();
        expect(following === null ? null : Buffer.from(following.body).toString()).toBe(index + 1 < chunks.length ? Buffer.from((chunks[index + 1] as SourceChunk).body).toString() : null);
        await reopened.close();
        // The whole rest, from a few cursors: together with what came before, every row once.
        if (index % 10 === 3) expect([...all.slice(0, before), ...linesOf(await readAll(connection, chunk.cursor, { rows, bytes }))]).toEqual(all);
      }
    });
  }

  it('reads only the range [start, end) and the named measurements, with their prefix', async () => {
    const startNs = CPU_TIMES[10] as bigint;
    const endNs = T0 + 8n * DAY_NS + 1n;
    const chunks = await readAll(connection, null, { rows: 4, startNs, endNs, source: { measurements: ['cpu', 'mixed', 'absent'], measurement_prefix: 'old_' } });
    const lines = linesOf(chunks);
    // cpu times 10 to 32 (8 days), and mixed's integer 2 (read as float: see the mixed-type test).
    expect(lines.length).toBe(23 * HOSTS.length + 1);
    expect(lines.every((line) => line.startsWith('old_cpu,') || line === `old_mixed x=2.0 ${(T0 + 8n * DAY_NS).toString()}`)).toBe(true);
    for (const chunk of chunks) {
      expect(chunk.minTimeNs).toBeGreaterThanOrEqual(startNs);
      expect(chunk.maxTimeNs).toBeLessThan(endNs);
    }
    const progress = chunks.map((chunk) => chunk.progress ?? -1);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress.at(-1)).toBe(1);
  });

  it("reads the job's retention_policy (the default one without it), and fails a run naming a policy the database lacks", async () => {
    const { influxd } = server;
    await influxd.write('rps', `cpu,host=a v=1i ${T0.toString()}`);
    expect((await influxd.query('CREATE RETENTION POLICY "hourly" ON "rps" DURATION INF REPLICATION 1')).status).toBe(200);
    const written = await fetch(`${influxd.url}/write?db=rps&rp=hourly&precision=ns`, { method: 'POST', body: `cpu,host=b v=2i ${(T0 + 1n).toString()}\nrollup,host=b mean=2.5 ${(T0 + 1n).toString()}` });
    expect(written.status, await written.text()).toBe(204);
    const rps = connectionOf(influxd.url, 'rps');
    expect(linesOf(await readAll(rps, null))).toEqual([`cpu,host=a v=1i ${T0.toString()}`]);
    const hourly = driver.checkJobSource({ retention_policy: 'hourly', measurement_prefix: 'hourly_' });
    expect(hourly).toEqual({ retention_policy: 'hourly', measurement_prefix: 'hourly_' });
    expect(linesOf(await readAll(rps, null, { source: hourly })).sort()).toEqual([`hourly_cpu,host=b v=2i ${(T0 + 1n).toString()}`, `hourly_rollup,host=b mean=2.5 ${(T0 + 1n).toString()}`]);
    await expect(readAll(rps, null, { source: { retention_policy: 'weekly' } })).rejects.toThrow(/source\.retention_policy 'weekly' is not a retention policy of database 'rps' \(it has: autogen, hourly\)/);
  });

  it('refuses bad settings and job sources naming the field', () => {
    expect(() => driver.checkSettings({ version: 1, url: 'ftp://x', database: 'a' })).toThrow(/settings\.url/);
    expect(() => driver.checkSettings({ version: 1, url: 'http://u:p@x', database: 'a' })).toThrow(/secret/);
    expect(() => driver.checkSettings({ version: 1, url: 'http://x' })).toThrow(/settings\.database/);
    expect(() => driver.checkSettings({ version: 2, url: 'http://x', database: 'a' })).toThrow(/settings\.version/);
    expect(() => driver.checkSettings({ url: 'http://x', database: 'a', datbase: 'b' })).toThrow(/settings\.datbase/);
    expect(driver.checkSettings({ url: 'http://x:8086/', database: 'a' })).toEqual({ version: 1, url: 'http://x:8086', database: 'a' });
    expect(() => driver.checkJobSource({ measurements: [] })).toThrow(/source\.measurements/);
    expect(() => driver.checkJobSource({ measurements: ['a', 3] })).toThrow(/source\.measurements\[1\]/);
    expect(() => driver.checkJobSource({ measurement_prefix: 1 })).toThrow(/source\.measurement_prefix/);
    expect(driver.checkJobSource({ measurements: ['a', 'a'] })).toEqual({ measurements: ['a'] });
    expect(() => driver.checkJobSource({ retention_policy: '' })).toThrow(/source\.retention_policy/);
    expect(() => driver.checkJobSource({ retention_policy: ['a'] })).toThrow(/source\.retention_policy/);
    expect(() => driver.checkJobSource({ retention: 'a' })).toThrow(/source\.retention: is not a known key \(known: measurements, measurement_prefix, retention_policy\)/);
  });

  it('tests a connection: version, and the step that fails', async () => {
    const { influxd } = server;
    const ok = await driver.test(connection, signal);
    expect(ok).toMatchObject({ ok: true, version: expect.stringMatching(/^InfluxDB 1\./) as unknown });
    const unknown = await driver.test(connectionOf(influxd.url, 'nope'), signal);
    expect(unknown.ok).toBe(false);
    expect(unknown.detail).toMatch(/^database: 'nope' does not exist/);
    const closed = await driver.test(connectionOf(`http://127.0.0.1:${String(await freePort())}`), signal);
    expect(closed).toMatchObject({ ok: false, version: null });
    expect(closed.detail).toMatch(/^connect: .*ECONNREFUSED/);
  });

  it('a read ends at once when its signal aborts', async () => {
    const controller = new AbortController();
    const reader = await driver.open(connection, {}, null, { startNs: null, endNs: null, chunkRowsMax: 5, chunkBytesMax: 1 << 20, signal: controller.signal });
    controller.abort();
    await expect(reader.next()).rejects.toThrow(/abort/i);
  });
});

describe.skipIf(!available)('InfluxDB 1.x driver with authentication', () => {
  let influxd: InfluxdProcess;
  const admin = { u: 'admin', p: 'right password' };

  beforeAll(async () => {
    influxd = await startInfluxd({ authEnabled: true });
    const created = await influxd.query(`CREATE USER "admin" WITH PASSWORD 'right password' WITH ALL PRIVILEGES`);
    expect(created.status).toBe(200);
    expect((await influxd.query('CREATE DATABASE "secured"', admin)).status).toBe(200);
  }, 70_000);
  afterAll(async () => {
    await influxd.stop();
  });

  it('authenticates with the secret, and names authentication when it is wrong', async () => {
    const right = await driver.test(connectionOf(influxd.url, 'secured', { username: 'admin' }, 'right password'), signal);
    expect(right.ok).toBe(true);
    const wrong = await driver.test(connectionOf(influxd.url, 'secured', { username: 'admin' }, 'wrong'), signal);
    expect(wrong).toMatchObject({ ok: false, version: expect.stringMatching(/^InfluxDB 1\./) as unknown });
    expect(wrong.detail).toMatch(/^authenticate: InfluxDB refused user 'admin' \(401/);
    const none = await driver.test(connectionOf(influxd.url, 'secured'), signal);
    expect(none.detail).toMatch(/^authenticate: /);
  });
});
