// Proves InfluxDB 1.x's query endpoint against the real server: a known dataset written as line
// protocol is read back through GET and POST /query (form body and `q` in the URL) with InfluxQL
// (values, types, grouping, fill, epoch), and errors, auth and Arc SQL on the same path keep their shapes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { influxqlQuery } from '../../influxql/test/support/influxql-arbitraries.js';
import { TEST_TOKEN } from './support/arc-process.js';
import { useSharedArc } from './support/shared-arc.js';
import { flushUntil } from './support/flush-until.js';
import { createToken } from './support/token-helpers.js';

const shared = useSharedArc({ ARC_WRITER_FLUSH_AGE_MS: '600000' });

const T0 = 1_700_000_000; // 2023-11-14T22:13:20Z
const DATABASE = 'influxql_e2e';
const LINES = [
  `cpu,host=a,region=us usage_idle=90.5,usage_user=5i,up=true ${T0}`,
  `cpu,host=b,region=eu usage_idle=80.5,usage_user=15i,up=false ${T0 + 10}`,
  `cpu,host=a,region=us usage_idle=70.5,usage_user=25i,up=true ${T0 + 20}`,
  `cpu,host=b,region=eu usage_idle=60.5 ${T0 + 40}`,
  `mem,host=a used=9007199254740993i ${T0}`,
].join('\n');

const auth = { Authorization: `Token ${TEST_TOKEN}` };

async function influxGet(q: string, parameters: Record<string, string> = {}, headers: Record<string, string> = auth): Promise<{ status: number; body: unknown; text: string }> {
  const search = new URLSearchParams({ db: DATABASE, ...parameters, q });
  const answer = await shared.client.get(`/query?${search.toString()}`, headers);
  return { status: answer.status, body: answer.text === '' ? null : JSON.parse(answer.text), text: answer.text };
}

let written = false;
async function ensureData(): Promise<void> {
  if (written) return;
  const write = await shared.client.post(`/write?db=${DATABASE}&precision=s`, LINES, auth);
  expect(write.status, write.text).toBe(204);
  await flushUntil(shared.client, DATABASE, 'cpu', 4);
  await flushUntil(shared.client, DATABASE, 'mem', 1);
  written = true;
}

describe('InfluxQL over /query', () => {
  it('answers Telegraf\'s CREATE DATABASE with an empty result, before any data exists', async () => {
    const form = new URLSearchParams({ q: `CREATE DATABASE "${DATABASE}"` });
    const answer = await shared.client.post('/query', form.toString(), { ...auth, 'Content-Type': 'application/x-www-form-urlencoded' });
    expect(answer.status).toBe(200);
    expect(answer.json()).toEqual({ results: [{ statement_id: 0 }] });
  });

  it('reads back the written points with their types (GET, epoch=s)', async () => {
    await ensureData();
    const answer = await influxGet('SELECT * FROM cpu WHERE host = \'a\'', { epoch: 's' });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      results: [
        {
          statement_id: 0,
          series: [
            {
              name: 'cpu',
              columns: ['time', 'host', 'region', 'up', 'usage_idle', 'usage_user'],
              values: [
                [T0, 'a', 'us', true, 90.5, 5],
                [T0 + 20, 'a', 'us', true, 70.5, 25],
              ],
            },
          ],
        },
      ],
    });
  });

  it('lists databases, measurements, tag keys and values, and field keys with types', async () => {
    await ensureData();
    const databases = await influxGet('SHOW DATABASES');
    expect((databases.body as { results: [{ series: [{ values: string[][] }] }] }).results[0].series[0].values).toContainEqual([DATABASE]);
    expect((await influxGet('SHOW MEASUREMENTS')).body).toEqual({
      results: [{ statement_id: 0, series: [{ name: 'measurements', columns: ['name'], values: [['cpu'], ['mem']] }] }],
    });
    expect((await influxGet('SHOW TAG KEYS FROM cpu; SHOW TAG VALUES FROM cpu WITH KEY = "region"; SHOW FIELD KEYS FROM cpu')).body).toEqual({
      results: [
        { statement_id: 0, series: [{ name: 'cpu', columns: ['tagKey'], values: [['host'], ['region']] }] },
        { statement_id: 1, series: [{ name: 'cpu', columns: ['key', 'value'], values: [['region', 'eu'], ['region', 'us']] }] },
        {
          statement_id: 2,
          series: [{ name: 'cpu', columns: ['fieldKey', 'fieldType'], values: [['up', 'boolean'], ['usage_idle', 'float'], ['usage_user', 'integer']] }],
        },
      ],
    });
  });

  it('tells a string field from a tag (the files\' arc:tags), in SHOW TAG KEYS and SHOW FIELD KEYS', async () => {
    const write = await shared.client.post(`/write?db=${DATABASE}&precision=s`, `weather,city=paris temp=12.5,sky="clear" ${String(T0)}`, auth);
    expect(write.status, write.text).toBe(204);
    await flushUntil(shared.client, DATABASE, 'weather', 1);
    expect((await influxGet('SHOW TAG KEYS FROM weather; SHOW FIELD KEYS FROM weather')).body).toEqual({
      results: [
        { statement_id: 0, series: [{ name: 'weather', columns: ['tagKey'], values: [['city']] }] },
        { statement_id: 1, series: [{ name: 'weather', columns: ['fieldKey', 'fieldType'], values: [['sky', 'string'], ['temp', 'float']] }] },
      ],
    });
  });

  it('groups by time and tag with fill, in ms epoch, over a form POST', async () => {
    await ensureData();
    const q = `SELECT mean(usage_idle), count(usage_user) FROM cpu WHERE time >= ${String(T0)}s AND time < ${String(T0 + 60)}s GROUP BY time(20s), host fill(null)`;
    const form = new URLSearchParams({ db: DATABASE, epoch: 'ms', q });
    const answer = await shared.client.post('/query', form.toString(), { ...auth, 'Content-Type': 'application/x-www-form-urlencoded' });
    expect(answer.status, answer.text).toBe(200);
    const ms = (seconds: number): number => seconds * 1000;
    expect(answer.json()).toEqual({
      results: [
        {
          statement_id: 0,
          series: [
            { name: 'cpu', tags: { host: 'a' }, columns: ['time', 'mean', 'count'], values: [[ms(T0), 90.5, 1], [ms(T0 + 20), 70.5, 1], [ms(T0 + 40), null, 0]] },
            { name: 'cpu', tags: { host: 'b' }, columns: ['time', 'mean', 'count'], values: [[ms(T0), 80.5, 1], [ms(T0 + 20), null, 0], [ms(T0 + 40), 60.5, 0]] },
          ],
        },
      ],
    });
  });

  it('takes q in the URL of a POST (the influx CLI\'s way), RFC 3339 times without epoch, exact int64', async () => {
    await ensureData();
    const search = new URLSearchParams({ db: DATABASE, q: 'SELECT used FROM mem; SELECT last(usage_idle) FROM cpu' });
    // A body that is not a form is not read for parameters.
    const answer = await shared.client.post(`/query?${search.toString()}`, 'q=SHOW DATABASES', { ...auth, 'Content-Type': 'text/plain' });
    expect(answer.status).toBe(200);
    expect(answer.text).toBe(
      '{"results":[{"statement_id":0,"series":[{"name":"mem","columns":["time","used"],"values":[["2023-11-14T22:13:20Z",9007199254740993]]}]},' +
        '{"statement_id":1,"series":[{"name":"cpu","columns":["time","last"],"values":[["2023-11-14T22:14:00Z",60.5]]}]}]}',
    );
  });

  it('keeps Arc SQL on POST /query with a JSON body', async () => {
    await ensureData();
    expect(await shared.client.rows('SELECT count(*) FROM cpu', DATABASE)).toEqual([[4]]);
  });

  it('answers errors in InfluxDB\'s shapes', async () => {
    await ensureData();
    expect(await influxGet('SELECT * FROM /cp(/')).toMatchObject({
      status: 400,
      body: { error: 'error parsing query: error parsing regexp: missing closing ): `cp(` at line 1, char 14', code: 'ARC_INFLUXQL_PARSE', line: 1, char: 14 },
    });
    expect(await influxGet('SELECT mean(host) FROM cpu')).toEqual({
      status: 200,
      body: { results: [{ statement_id: 0, error: 'mean() takes a numeric field; host is a tag' }] },
      text: expect.any(String),
    });
    expect((await shared.client.get(`/query?db=${DATABASE}`, auth)).json()).toMatchObject({ error: 'missing required parameter "q"' });
    expect((await influxGet('SHOW DATABASES', { epoch: 'fortnight' })).status).toBe(400);
    expect((await influxGet('SHOW DATABASES', {}, {})).body).toEqual({ error: 'Authentication required' });
  });

  it('checks the token: u/p parameters work, a token limited to another database is refused, CREATE DATABASE needs write only', async () => {
    await ensureData();
    expect((await influxGet('SELECT count(usage_idle) FROM cpu', { u: 'any', p: TEST_TOKEN }, {})).status).toBe(200);
    const other = await createToken(shared.arc.url, { name: 'influxql-other', permissions: ['read'], databases: ['other'] });
    const denied = await influxGet('SELECT count(usage_idle) FROM cpu', {}, { Authorization: `Token ${other.token}` });
    expect(denied).toMatchObject({ status: 403, body: { error: `Permission denied: no access to database '${DATABASE}'` } });
    const writer = await createToken(shared.arc.url, { name: 'influxql-writer', permissions: ['write'] });
    expect((await influxGet('CREATE DATABASE "telegraf"', {}, { Authorization: `Token ${writer.token}` })).body).toEqual({ results: [{ statement_id: 0 }] });
    expect((await influxGet('SHOW DATABASES', {}, { Authorization: `Token ${writer.token}` })).body).toEqual({ error: 'Permission denied: read required' });
  });

  it('answers any query, odd or broken, with 200 and results or 400 and an error, never anything else', async () => {
    const fuzzDatabase = 'influxql_fuzz';
    const lines = `cpu,host=a count=1i,usage=0.5 ${String(T0)}\ncpu,host=b count=2i,usage=1.5 ${String(T0 + 10)}`;
    expect((await shared.client.post(`/write?db=${fuzzDatabase}&precision=s`, lines, auth)).status).toBe(204);
    await flushUntil(shared.client, fuzzDatabase, 'cpu', 2);
    const query = fc.oneof(influxqlQuery, fc.string({ maxLength: 80 }), influxqlQuery.map((text) => text.slice(0, Math.floor(text.length / 2))));
    await fc.assert(
      fc.asyncProperty(query, fc.constantFrom('', 's', 'ns'), async (q, epoch) => {
        const answer = await influxGet(q, { db: fuzzDatabase, ...(epoch === '' ? {} : { epoch }) });
        if (answer.status === 400) {
          expect(answer.body).toMatchObject({ error: expect.any(String) });
          return;
        }
        expect(answer.status, answer.text).toBe(200);
        const results = (answer.body as { results: { statement_id: number }[] }).results;
        expect(results.map((result) => result.statement_id)).toEqual(results.map((_, index) => index));
      }),
      { numRuns: 150 },
    );
  });

  it('answers /ping like InfluxDB, without a token', async () => {
    const ping = await fetch(`${shared.arc.url}/ping`);
    expect(ping.status).toBe(204);
    expect(ping.headers.get('x-influxdb-version')).toBe('1.8.10');
    expect((await fetch(`${shared.arc.url}/ping`, { method: 'HEAD' })).status).toBe(204);
  });
});
