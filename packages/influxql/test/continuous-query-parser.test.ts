// Proves InfluxQL's continuous-query statements parse as InfluxDB 1.6.7 parses them: the refused
// statements of the research fixtures give its exact errors (message and position), the accepted
// ones parse, SHOW shows InfluxDB's normalised text, and a CQ becomes Arc definitions (SQL with
// window placeholders; offset, tz() shift, RESAMPLE and databases as fields; wildcards and regex
// FROM expanded over given schemas), while constructs Arc cannot run are refused with a statement
// error.
import { describe, expect, it } from 'vitest';
import type { CreateContinuousQueryStatement } from '../src/ast.js';
import { continuousQueryDefinition, continuousQueryDefinitions } from '../src/continuous-query-sql.js';
import { createContinuousQuery, dropContinuousQuery, showContinuousQueries, showText, type ContinuousQueryDefinition, type ContinuousQueryPort, type ContinuousQueryTemplate } from '../src/continuous-query-statements.js';
import { reexpandTemplate, templateChanges } from '../src/continuous-query-templates.js';
import { isParseError, parseQuery } from '../src/parser.js';
import type { FieldType, MeasurementSchema } from '../src/schema.js';

const REFUSED: readonly (readonly [string, string])[] = [
  ['CREATE CONTINUOUS QUERY r_notime ON db1 BEGIN SELECT mean(value) INTO x FROM cpu END', 'error parsing query: found cpu, expected GROUP BY time(...) at line 1, char 78'],
  ['CREATE CONTINUOUS QUERY r_nointo ON db1 BEGIN SELECT mean(value) FROM cpu GROUP BY time(1m) END', 'error parsing query: found FROM, expected INTO at line 1, char 66'],
  ['CREATE CONTINUOUS QUERY r_nofrom ON db1 BEGIN SELECT mean(value) INTO x GROUP BY time(1m) END', 'error parsing query: found GROUP, expected FROM at line 1, char 73'],
  ['CREATE CONTINUOUS QUERY r_noend ON db1 BEGIN SELECT mean(value) INTO x FROM cpu GROUP BY time(1m)', 'error parsing query: found EOF, expected END at line 1, char 98'],
  ['CREATE CONTINUOUS QUERY r_nobegin ON db1 SELECT mean(value) INTO x FROM cpu GROUP BY time(1m) END', 'error parsing query: found SELECT, expected BEGIN at line 1, char 42'],
  ['CREATE CONTINUOUS QUERY r_noon BEGIN SELECT mean(value) INTO x FROM cpu GROUP BY time(1m) END', 'error parsing query: found BEGIN, expected ON at line 1, char 32'],
  ['CREATE CONTINUOUS QUERY r_two ON db1 BEGIN SELECT mean(value) INTO x FROM cpu GROUP BY time(1m); SELECT max(value) INTO y FROM cpu GROUP BY time(1m) END', 'error parsing query: found ;, expected END at line 1, char 96'],
  ['CREATE CONTINUOUS QUERY r_resample_empty ON db1 RESAMPLE BEGIN SELECT mean(value) INTO x FROM cpu GROUP BY time(1m) END', 'error parsing query: found BEGIN, expected EVERY, FOR at line 1, char 58'],
  ['CREATE CONTINUOUS QUERY r_every_lt ON db1 RESAMPLE EVERY 0s BEGIN SELECT mean(value) INTO x FROM cpu GROUP BY time(1m) END', 'error parsing query: found BEGIN, expected EVERY, FOR at line 1, char 61'],
  ['CREATE CONTINUOUS QUERY r_for_every_order ON db1 RESAMPLE FOR 2m EVERY 30s BEGIN SELECT mean(value) INTO x FROM cpu GROUP BY time(1m) END', 'error parsing query: found EVERY, expected BEGIN at line 1, char 66'],
  ['SHOW CONTINUOUS QUERIES ON db1', 'error parsing query: found ON, expected ; at line 1, char 25'],
  ['SHOW CONTINUOUS QUERY', 'error parsing query: found QUERY, expected QUERIES at line 1, char 17'],
  ['DROP CONTINUOUS QUERY cq_basic', 'error parsing query: found EOF, expected ON at line 1, char 32'],
  ['DROP CONTINUOUS QUERIES ON db1', 'error parsing query: found QUERIES, expected QUERY at line 1, char 17'],
];

const ACCEPTED = [
  'CREATE CONTINUOUS QUERY cq_basic ON db1 BEGIN SELECT mean(value) INTO cpu_1m FROM cpu GROUP BY time(1m) END',
  'CREATE CONTINUOUS QUERY cq_resample ON db1 RESAMPLE EVERY 30s FOR 2m BEGIN SELECT mean(value) INTO cpu_1m_rs FROM cpu GROUP BY time(1m), host END',
  'CREATE CONTINUOUS QUERY cq_for ON db1 RESAMPLE FOR 3m BEGIN SELECT count(value) INTO cpu_1m_for FROM cpu GROUP BY time(1m) END',
  'CREATE CONTINUOUS QUERY r_star_time ON db1 BEGIN SELECT mean(value) INTO x FROM cpu GROUP BY *, time(1m) END',
  'CREATE CONTINUOUS QUERY r_where_tag ON db1 BEGIN SELECT mean(value) INTO x FROM cpu WHERE host = \'a\' GROUP BY time(1m) END',
  'CREATE CONTINUOUS QUERY "quoted name" ON "db1" BEGIN SELECT mean("value") INTO "x" FROM "cpu" GROUP BY time(1m) END',
  'create continuous query lower_case on db1 begin select mean(value) into lc from cpu group by time(1m) end',
  'CREATE CONTINUOUS QUERY r_param ON db1 BEGIN SELECT mean(value) INTO x FROM cpu GROUP BY time(1m)END',
  'CREATE CONTINUOUS QUERY r_rp ON db1 BEGIN SELECT mean(value) INTO db1.rp_long.cpu_1m FROM cpu GROUP BY time(1m), * END',
  'DROP CONTINUOUS QUERY "quoted name" ON db1',
  'SHOW CONTINUOUS QUERIES',
];

/** 2026-01-01T00:00:00Z: where tz()'s offsets are read. */
const NOW_NANOS = 1_767_225_600_000_000_000n;

function schema(name: string, tags: readonly string[], fields: readonly (readonly [string, FieldType])[]): MeasurementSchema {
  return { name, tags, fields: new Map(fields), unsignedFields: new Set() };
}

const CPU = { database: 'db1', measurement: 'cpu', schema: schema('cpu', ['host', 'region'], [['n', 'integer'], ['ok', 'boolean'], ['value', 'float']]) };
const MEM = { database: 'db1', measurement: 'mem', schema: schema('mem', ['host'], [['used', 'float']]) };
const FLAGS = { database: 'db1', measurement: 'flags', schema: schema('flags', ['dev'], [['up', 'boolean']]) };

/** Arc's continuous queries and templates in memory, as the server's port keeps them; `refuse` names a query create() throws for. */
function memoryPort(refuse: string | null = null): ContinuousQueryPort & { readonly definitions: ContinuousQueryDefinition[]; readonly kept: ContinuousQueryTemplate[] } {
  const definitions: ContinuousQueryDefinition[] = [];
  const kept: ContinuousQueryTemplate[] = [];
  // Creation times one millisecond apart, in the order things are made.
  let clockMs = 0;
  const madeAtMs = new Map<string, number>();
  return {
    definitions,
    kept,
    list: () => definitions.map((definition) => ({ name: definition.name, database: definition.database, query: definition.query, description: definition.description, createdAtMs: madeAtMs.get(definition.name) ?? 0 })),
    create: (definition) => {
      if (definition.name === refuse) return Promise.reject(new Error(`refused ${definition.name}`));
      definitions.push(definition);
      madeAtMs.set(definition.name, (clockMs += 1));
      return Promise.resolve();
    },
    remove: (name) => {
      const index = definitions.findIndex((definition) => definition.name === name);
      if (index !== -1) definitions.splice(index, 1);
    },
    templates: () => kept,
    addTemplate: (template) => {
      kept.push({ ...template, createdAtMs: (clockMs += 1) });
    },
    removeTemplate: (name) => {
      const index = kept.findIndex((template) => template.name === name);
      if (index !== -1) kept.splice(index, 1);
    },
  };
}

function created(text: string): CreateContinuousQueryStatement {
  const parsed = parseQuery(text);
  if (isParseError(parsed)) throw new Error(parsed.message);
  const [statement] = parsed;
  if (statement?.kind !== 'createContinuousQuery') throw new Error('not a CREATE CONTINUOUS QUERY');
  return statement;
}

describe('continuous query statements', () => {
  it.each(REFUSED)('refuses %s as InfluxDB does', (text, message) => {
    const parsed = parseQuery(text);
    expect(isParseError(parsed) ? parsed.message : 'parsed').toBe(message);
  });

  it.each(ACCEPTED)('parses %s', (text) => {
    expect(isParseError(parseQuery(text))).toBe(false);
  });

  it('shows the normalised statement', () => {
    expect(showText(created('CREATE CONTINUOUS QUERY cq_basic ON db1 BEGIN SELECT mean(value) INTO cpu_1m FROM cpu GROUP BY time(1m) END'))).toBe(
      'CREATE CONTINUOUS QUERY cq_basic ON db1 BEGIN SELECT mean(value) INTO db1.autogen.cpu_1m FROM db1.autogen.cpu GROUP BY time(1m) END',
    );
    expect(showText(created('CREATE CONTINUOUS QUERY cq_resample ON db1 RESAMPLE EVERY 30s FOR 2m BEGIN SELECT mean(value) INTO cpu_1m_rs FROM cpu GROUP BY time(1m), host END'))).toBe(
      'CREATE CONTINUOUS QUERY cq_resample ON db1 RESAMPLE EVERY 30s FOR 2m BEGIN SELECT mean(value) INTO db1.autogen.cpu_1m_rs FROM db1.autogen.cpu GROUP BY time(1m), host END',
    );
  });

  it('translates a basic CQ into Arc SQL over one window', () => {
    const definition = continuousQueryDefinition(created("CREATE CONTINUOUS QUERY c ON db1 BEGIN SELECT mean(value), max(value) AS peak INTO cpu_1m FROM cpu WHERE host = 'a' AND time > now() - 1h GROUP BY time(1m), host END"), 'text', NOW_NANOS);
    expect(definition).toEqual({
      name: 'db1.c',
      database: 'db1',
      sourceMeasurement: 'cpu',
      destinationMeasurement: 'cpu_1m',
      interval: '60s',
      description: 'text',
      destinationDatabase: null,
      windowOffset: null,
      resampleEvery: null,
      resampleFor: null,
      query:
        'SELECT time_bucket(to_microseconds(60000000), "time", TIMESTAMP \'1970-01-01 00:00:00\') AS "time", "host", avg("value") AS "mean", max("value") AS "peak" FROM "cpu" WHERE "time" >= {start_time} AND "time" < {end_time} AND ("host" = \'a\' AND TRUE) GROUP BY 1, "host"',
    });
  });

  it.each([
    ['time(1h, 15m)', '15m'],
    ['time(1h, -15m)', '45m'],
    ['time(1h, 75m)', '15m'],
    ['time(1h, 1h)', null],
    ['time(1h, -2h)', null],
    ['time(90s, 30s)', '30s'],
  ])('passes the offset of GROUP BY %s as InfluxDB applies it (%s)', (groupBy, windowOffset) => {
    const definition = continuousQueryDefinition(created(`CREATE CONTINUOUS QUERY c ON db1 BEGIN SELECT count(value) INTO x FROM cpu GROUP BY ${groupBy} END`), '', NOW_NANOS);
    expect(definition.windowOffset).toBe(windowOffset);
    const origin = windowOffset === '45m' ? '00:45:00' : windowOffset === '15m' ? '00:15:00' : windowOffset === '30s' ? '00:00:30' : '00:00:00';
    expect(definition.query).toContain(`"time", TIMESTAMP '1970-01-01 ${origin}')`);
  });

  it.each([
    ["time(1h) tz('America/Chicago')", null],
    ["time(1m) tz('Europe/Paris')", null],
    ["time(1h) tz('Asia/Kolkata')", '30m'],
    ["time(1d) tz('Asia/Kolkata')", '1110m'],
    ["time(1d, 2h) tz('Asia/Kolkata')", '1230m'],
    ["time(1d) tz('Etc/GMT+5')", '5h'],
    ["time(1d) tz('UTC')", null],
  ])('runs GROUP BY %s as UTC windows shifted by %s (local boundaries, as InfluxDB)', (groupBy, windowOffset) => {
    const definition = continuousQueryDefinition(created(`CREATE CONTINUOUS QUERY c ON db1 BEGIN SELECT count(value) INTO x FROM cpu GROUP BY ${groupBy} END`), '', NOW_NANOS);
    expect(definition.windowOffset).toBe(windowOffset);
  });

  it('translates a CQ over a subquery into SQL over the inner SELECT, shown as InfluxDB shows it', () => {
    const statement = created("CREATE CONTINUOUS QUERY s2 ON db3 BEGIN SELECT mean(max) AS m INTO sub2 FROM (SELECT max(value) FROM cpu WHERE region = 'x' GROUP BY time(30m),host) GROUP BY time(1h), host END");
    const definition = continuousQueryDefinition(statement, '', NOW_NANOS);
    expect([definition.database, definition.sourceMeasurement, definition.destinationMeasurement, definition.interval]).toEqual(['db3', 'cpu', 'sub2', '3600s']);
    expect(definition.query).toBe(
      'SELECT time_bucket(to_microseconds(3600000000), "time", TIMESTAMP \'1970-01-01 00:00:00\') AS "time", "host", avg("max") AS "m" FROM (' +
        'SELECT time_bucket(to_microseconds(1800000000), "time", TIMESTAMP \'1970-01-01 00:00:00\') AS "time", "host", max("value") AS "max" FROM "cpu" WHERE "time" >= {start_time} AND "time" < {end_time} AND "region" = \'x\' GROUP BY 1, "host"' +
        ') AS "subquery" WHERE "time" >= {start_time} AND "time" < {end_time} GROUP BY 1, "host"',
    );
    expect(showText(statement)).toBe("CREATE CONTINUOUS QUERY s2 ON db3 BEGIN SELECT mean(max) AS m INTO db3.autogen.sub2 FROM (SELECT max(value) FROM db3.autogen.cpu WHERE region = 'x' GROUP BY time(30m), host) GROUP BY time(1h), host END");
  });

  it.each([
    ['a subquery without GROUP BY time()', 'CREATE CONTINUOUS QUERY c ON db1 BEGIN SELECT mean(max) INTO x FROM (SELECT max(value) FROM cpu GROUP BY host) GROUP BY time(1h) END'],
    ['a tag the subquery does not group by', 'CREATE CONTINUOUS QUERY c ON db1 BEGIN SELECT mean(max) INTO x FROM (SELECT max(value) FROM cpu GROUP BY time(1m)) GROUP BY time(1h), host END'],
    ['a raw field in a subquery', 'CREATE CONTINUOUS QUERY c ON db1 BEGIN SELECT mean(value) INTO x FROM (SELECT value FROM cpu GROUP BY time(1m)) GROUP BY time(1h) END'],
    ['a regex in a subquery', 'CREATE CONTINUOUS QUERY c ON db1 BEGIN SELECT mean(max) INTO x FROM (SELECT max(value) FROM /c/ GROUP BY time(1m)) GROUP BY time(1h) END'],
  ])('refuses %s', (_label, text) => {
    expect(() => continuousQueryDefinition(created(text), '', NOW_NANOS)).toThrow(/not supported by Arc/);
  });

  it('names the zone and its offsets when tz() is not a fixed shift', () => {
    expect(() => continuousQueryDefinition(created("CREATE CONTINUOUS QUERY c ON db1 BEGIN SELECT count(value) INTO x FROM cpu GROUP BY time(1d) tz('America/Chicago') END"), '', NOW_NANOS)).toThrow(
      "continuous query: tz('America/Chicago') with GROUP BY time(1d) (its UTC offsets -06:00, -05:00 do not differ by whole intervals",
    );
  });

  it('shows tz() as InfluxDB does', () => {
    expect(showText(created("CREATE CONTINUOUS QUERY c5 ON db1 BEGIN SELECT mean(value) INTO m5 FROM cpu GROUP BY time(1h) tz('America/Chicago') END"))).toBe(
      "CREATE CONTINUOUS QUERY c5 ON db1 BEGIN SELECT mean(value) INTO db1.autogen.m5 FROM db1.autogen.cpu GROUP BY time(1h) TZ('America/Chicago') END",
    );
  });

  it.each([
    ['RESAMPLE EVERY 30s FOR 2m', 'time(1m)', '30s', '2m'],
    ['RESAMPLE EVERY 30s', 'time(1m)', '30s', null],
    ['RESAMPLE FOR 3m', 'time(1m)', null, '3m'],
    // InfluxDB covers the EVERY span when EVERY exceeds the interval and FOR is not given.
    ['RESAMPLE EVERY 2h', 'time(1h)', '2h', '2h'],
    ['RESAMPLE EVERY 90s FOR 1h', 'time(1m)', '90s', '1h'],
  ])('passes %s with GROUP BY %s', (resample, groupBy, resampleEvery, resampleFor) => {
    const definition = continuousQueryDefinition(created(`CREATE CONTINUOUS QUERY c ON db1 ${resample} BEGIN SELECT count(value) INTO x FROM cpu GROUP BY ${groupBy} END`), '', NOW_NANOS);
    expect([definition.resampleEvery, definition.resampleFor]).toEqual([resampleEvery, resampleFor]);
  });

  it.each([
    ['INTO db2..x FROM cpu', 'db1', 'db2'],
    ['INTO db2.autogen.x FROM cpu', 'db1', 'db2'],
    ['INTO db1..x FROM db1.autogen.cpu', 'db1', null],
    // The query runs where it reads: FROM another database makes that Arc's database, INTO the CQ's its destination.
    ['INTO x FROM db2..cpu', 'db2', 'db1'],
    ['INTO db2..x FROM db2..cpu', 'db2', null],
    ['INTO db3..x FROM db2..cpu', 'db2', 'db3'],
  ])('maps %s onto database and destination database', (intoFrom, database, destinationDatabase) => {
    const definition = continuousQueryDefinition(created(`CREATE CONTINUOUS QUERY c ON db1 BEGIN SELECT count(value) ${intoFrom} GROUP BY time(1m) END`), '', NOW_NANOS);
    expect([definition.name, definition.database, definition.destinationDatabase, definition.sourceMeasurement, definition.destinationMeasurement]).toEqual(['db1.c', database, destinationDatabase, 'cpu', 'x']);
  });

  it.each([
    ['CREATE CONTINUOUS QUERY c1 ON db1 BEGIN SELECT mean(value) INTO db2..m FROM cpu GROUP BY time(1h, 15m) END', 'CREATE CONTINUOUS QUERY c1 ON db1 BEGIN SELECT mean(value) INTO db2.autogen.m FROM db1.autogen.cpu GROUP BY time(1h, 15m) END'],
    ['CREATE CONTINUOUS QUERY c2 ON db1 BEGIN SELECT mean(value) INTO m FROM db2..cpu GROUP BY time(1h, -15m) END', 'CREATE CONTINUOUS QUERY c2 ON db1 BEGIN SELECT mean(value) INTO db1.autogen.m FROM db2.autogen.cpu GROUP BY time(1h, -15m) END'],
    ['CREATE CONTINUOUS QUERY r2 ON db1 BEGIN SELECT mean(value) INTO "x y" FROM cpu GROUP BY time(1m, 30s) END', 'CREATE CONTINUOUS QUERY r2 ON db1 BEGIN SELECT mean(value) INTO db1.autogen."x y" FROM db1.autogen.cpu GROUP BY time(1m, 30s) END'],
  ])('shows %s as InfluxDB 1.6.7 does', (text, shown) => {
    expect(showText(created(text))).toBe(shown);
  });

  it('expands the classic downsample-everything CQ into one query per measurement, as InfluxDB names its columns', () => {
    const statement = created('CREATE CONTINUOUS QUERY c ON db1 BEGIN SELECT mean(*) INTO db2.autogen.:MEASUREMENT FROM /.*/ GROUP BY time(1h),* END');
    const definitions = continuousQueryDefinitions(statement, 'text', [CPU, FLAGS, MEM], NOW_NANOS);
    // flags has no field mean() takes (InfluxDB writes nothing for it either).
    expect(definitions.map((definition) => [definition.name, definition.database, definition.sourceMeasurement, definition.destinationDatabase, definition.destinationMeasurement])).toEqual([
      ['db1.c.cpu', 'db1', 'cpu', 'db2', 'cpu'],
      ['db1.c.mem', 'db1', 'mem', 'db2', 'mem'],
    ]);
    expect(definitions[0]?.query).toBe(
      'SELECT time_bucket(to_microseconds(3600000000), "time", TIMESTAMP \'1970-01-01 00:00:00\') AS "time", "host", "region", avg("n") AS "mean_n", avg("value") AS "mean_value" FROM (SELECT * FROM "cpu" UNION ALL BY NAME SELECT NULL::VARCHAR AS "host", NULL::VARCHAR AS "region", NULL::BIGINT AS "n", NULL::BOOLEAN AS "ok", NULL::DOUBLE AS "value" WHERE false) AS "cpu" WHERE "time" >= {start_time} AND "time" < {end_time} GROUP BY 1, "host", "region"',
    );
    expect(showText(statement)).toBe('CREATE CONTINUOUS QUERY c ON db1 BEGIN SELECT mean(*) INTO db2.autogen.:MEASUREMENT FROM db1.autogen./.*/ GROUP BY time(1h), * END');
  });

  it('expands fn(*) over the field types fn takes, beside named fields and tags', () => {
    const statement = created('CREATE CONTINUOUS QUERY c ON db1 BEGIN SELECT count(*), max(*), sum(value) AS total INTO cpu_all FROM cpu GROUP BY time(1m), host, * END');
    const [definition, ...others] = continuousQueryDefinitions(statement, '', [CPU], NOW_NANOS);
    expect(others).toEqual([]);
    expect(definition?.name).toBe('db1.c');
    expect(definition?.query).toContain('"host", "region", count("n") AS "count_n", count("ok") AS "count_ok", count("value") AS "count_value", max("n") AS "max_n", max("ok") AS "max_ok", max("value") AS "max_value", sum("value") AS "total" FROM (SELECT * FROM "cpu" UNION ALL BY NAME');
    expect(definition?.query).toContain('GROUP BY 1, "host", "region"');
  });

  it('reads a measurement expanded over its schema with every field and tag of it, null where a window\'s files lack one', () => {
    const statement = created('CREATE CONTINUOUS QUERY c ON db1 BEGIN SELECT mean(*) INTO db2..:MEASUREMENT FROM /.*/ GROUP BY time(1h),* END');
    const unsigned = { database: 'db1', measurement: 'io', schema: { ...schema('io', ['dev'], [['bytes', 'integer'], ['name', 'string']]), unsignedFields: new Set(['bytes']) } };
    const [definition] = continuousQueryDefinitions(statement, '', [unsigned], NOW_NANOS);
    expect(definition?.query).toContain('FROM (SELECT * FROM "io" UNION ALL BY NAME SELECT NULL::VARCHAR AS "dev", NULL::UBIGINT AS "bytes", NULL::VARCHAR AS "name" WHERE false) AS "io" WHERE');
  });

  it('creates, shows and drops the queries of a regex FROM as one InfluxQL query, all or none', async () => {
    const text = 'CREATE CONTINUOUS QUERY c ON db1 BEGIN SELECT mean(*) INTO db2..:MEASUREMENT FROM /.*/ GROUP BY time(1h),* END';
    const port = memoryPort();
    await createContinuousQuery(created(text), port, () => Promise.resolve([CPU, MEM]), NOW_NANOS);
    expect(port.definitions.map((definition) => definition.name)).toEqual(['db1.c.cpu', 'db1.c.mem']);
    expect(showContinuousQueries(port, ['db1'], () => true)).toEqual([
      { name: 'db1', tags: null, columns: ['name', 'query'], values: [['c', showText(created(text))]], timeColumn: false },
    ]);
    // The same text again is nothing to do; other text under the name is InfluxDB's error.
    await createContinuousQuery(created(text), port, () => Promise.resolve([CPU, MEM]), NOW_NANOS);
    expect(port.definitions).toHaveLength(2);
    await expect(createContinuousQuery(created(text.replace('mean(*)', 'max(*)')), port, () => Promise.resolve([CPU, MEM]), NOW_NANOS)).rejects.toThrow('continuous query already exists');
    dropContinuousQuery('c', 'db1', port);
    expect(port.definitions).toEqual([]);
    expect(port.kept).toEqual([]);
    const failing = memoryPort('db1.c.mem');
    await expect(createContinuousQuery(created(text), failing, () => Promise.resolve([CPU, MEM]), NOW_NANOS)).rejects.toThrow('refused db1.c.mem');
    expect(failing.definitions).toEqual([]);
    expect(failing.kept).toEqual([]);
  });

  it('keeps a statement matching nothing yet: SHOW lists it, the same CREATE is nothing, another is refused, DROP removes it', async () => {
    const text = 'CREATE CONTINUOUS QUERY c ON db1 BEGIN SELECT mean(*) INTO db2..:MEASUREMENT FROM /.*/ GROUP BY time(1h),* END';
    const port = memoryPort();
    await createContinuousQuery(created(text), port, () => Promise.resolve([]), NOW_NANOS);
    expect(port.definitions).toEqual([]);
    expect(port.kept.map((template) => [template.name, template.database, template.statement])).toEqual([['db1.c', 'db1', showText(created(text))]]);
    expect(showContinuousQueries(port, [], () => true)).toEqual([{ name: 'db1', tags: null, columns: ['name', 'query'], values: [['c', showText(created(text))]], timeColumn: false }]);
    await createContinuousQuery(created(text), port, () => Promise.resolve([CPU]), NOW_NANOS);
    expect([port.kept.length, port.definitions.length]).toEqual([1, 0]);
    await expect(createContinuousQuery(created(text.replace('mean(*)', 'max(*)')), port, () => Promise.resolve([]), NOW_NANOS)).rejects.toThrow('continuous query already exists');
    dropContinuousQuery('c', 'db1', port);
    expect(port.kept).toEqual([]);
    expect(showContinuousQueries(port, [], () => true)).toEqual([]);
  });

  it('lists queries in creation order, a kept statement where it was made', async () => {
    const port = memoryPort();
    await createContinuousQuery(created('CREATE CONTINUOUS QUERY a ON db1 BEGIN SELECT mean(value) INTO m FROM cpu GROUP BY time(1h) END'), port, () => Promise.resolve([]), NOW_NANOS);
    await createContinuousQuery(created('CREATE CONTINUOUS QUERY b ON db1 BEGIN SELECT mean(*) INTO db2..:MEASUREMENT FROM /.*/ GROUP BY time(1h) END'), port, () => Promise.resolve([MEM]), NOW_NANOS);
    await createContinuousQuery(created('CREATE CONTINUOUS QUERY c ON db1 BEGIN SELECT max(value) INTO n FROM cpu GROUP BY time(1h) END'), port, () => Promise.resolve([]), NOW_NANOS);
    expect(showContinuousQueries(port, ['db1'], () => true).map((series) => series.values.map((row) => row[0]))).toEqual([['a', 'b', 'c']]);
  });

  it.each([
    ['INTO the measurement it reads', 'CREATE CONTINUOUS QUERY c ON db1 BEGIN SELECT mean(*) INTO db1..:MEASUREMENT FROM /.*/ GROUP BY time(1h) END', 'INTO the measurement it reads (db1./.*/'],
    ['a field that is no aggregate', 'CREATE CONTINUOUS QUERY c ON db1 BEGIN SELECT mean(*), value INTO db2..:MEASUREMENT FROM /.*/ GROUP BY time(1h) END', 'a field that is not an aggregate call'],
    ['several measurements INTO one', 'CREATE CONTINUOUS QUERY c ON db1 BEGIN SELECT mean(*) INTO x FROM /.*/ GROUP BY time(1h) END', 'several measurements INTO one'],
  ])('refuses a statement matching nothing yet that %s', async (_label, text, error) => {
    const port = memoryPort();
    await expect(createContinuousQuery(created(text), port, () => Promise.resolve([]), NOW_NANOS)).rejects.toThrow(error);
    expect(port.kept).toEqual([]);
  });
});

describe('re-expanding a kept CREATE CONTINUOUS QUERY', () => {
  const TEXT = 'CREATE CONTINUOUS QUERY c ON db1 BEGIN SELECT mean(*) INTO db2..:MEASUREMENT FROM /.*/ GROUP BY time(1h),* END';

  async function keptOn(port: ReturnType<typeof memoryPort>): Promise<ContinuousQueryTemplate> {
    await createContinuousQuery(created(TEXT), port, () => Promise.resolve([]), NOW_NANOS);
    const [template] = port.kept;
    if (template === undefined) throw new Error('the statement is kept');
    return template;
  }

  it('creates a query per measurement that appeared, updates one whose fields or tags changed, leaves the others', async () => {
    const port = memoryPort();
    const template = await keptOn(port);
    const first = await reexpandTemplate(template, port.list(), () => Promise.resolve([CPU]), NOW_NANOS);
    expect([first.create.map((definition) => definition.name), first.update, first.refused]).toEqual([['db1.c.cpu'], [], []]);
    for (const definition of first.create) await port.create(definition);
    // Nothing changed: nothing to do.
    const again = await reexpandTemplate(template, port.list(), () => Promise.resolve([CPU]), NOW_NANOS);
    expect([again.create, again.update]).toEqual([[], []]);
    // mem appears; cpu gets a field (free) and a tag (dc).
    const cpuGrown = { ...CPU, schema: schema('cpu', ['dc', 'host', 'region'], [['free', 'float'], ['n', 'integer'], ['ok', 'boolean'], ['value', 'float']]) };
    const grown = await reexpandTemplate(template, port.list(), () => Promise.resolve([cpuGrown, MEM]), NOW_NANOS);
    expect(grown.create.map((definition) => [definition.name, definition.sourceMeasurement, definition.destinationDatabase, definition.description])).toEqual([['db1.c.mem', 'mem', 'db2', showText(created(TEXT))]]);
    expect(grown.update.map((definition) => definition.name)).toEqual(['db1.c.cpu']);
    expect(grown.update[0]?.query).toContain('"dc", "host", "region", avg("free") AS "mean_free", avg("n") AS "mean_n", avg("value") AS "mean_value"');
    expect(grown.update[0]?.query).toContain('GROUP BY 1, "dc", "host", "region"');
  });

  it('leaves out a measurement no field of which the wildcard takes, and takes it once one is', async () => {
    const port = memoryPort();
    const template = await keptOn(port);
    expect((await reexpandTemplate(template, port.list(), () => Promise.resolve([FLAGS]), NOW_NANOS)).create).toEqual([]);
    const flagsGrown = { ...FLAGS, schema: schema('flags', ['dev'], [['temp', 'float'], ['up', 'boolean']]) };
    expect((await reexpandTemplate(template, port.list(), () => Promise.resolve([flagsGrown]), NOW_NANOS)).create.map((definition) => definition.name)).toEqual(['db1.c.flags']);
  });

  it('names the measurements it refuses, with why, instead of failing', async () => {
    // São Paulo kept DST until 2019: its local days are fixed UTC windows from 2021 on (taken at
    // CREATE in 2026), not around 2012 (a re-expansion with a clock that far back refuses them).
    const port = memoryPort();
    await createContinuousQuery(created("CREATE CONTINUOUS QUERY z ON db1 BEGIN SELECT mean(*) INTO db2..:MEASUREMENT FROM /.*/ GROUP BY time(1d) tz('America/Sao_Paulo') END"), port, () => Promise.resolve([]), NOW_NANOS);
    const [template] = port.kept;
    if (template === undefined) throw new Error('the statement is kept');
    expect((await reexpandTemplate(template, port.list(), () => Promise.resolve([CPU]), NOW_NANOS)).create.map((definition) => definition.name)).toEqual(['db1.z.cpu']);
    const changes = await reexpandTemplate(template, port.list(), () => Promise.resolve([CPU, MEM]), 1_336_000_000_000_000_000n);
    expect([changes.create, changes.update]).toEqual([[], []]);
    expect(changes.refused.map((refusal) => [refusal.measurement, refusal.reason.includes("tz('America/Sao_Paulo')")])).toEqual([['db1.cpu', true], ['db1.mem', true]]);
  });

  it('decides by name and SQL only', () => {
    const definition = (name: string, query: string): ContinuousQueryDefinition => ({ name, database: 'db1', sourceMeasurement: name, destinationMeasurement: name, query, interval: '3600s', description: '', destinationDatabase: null, windowOffset: null, resampleEvery: null, resampleFor: null });
    const changes = templateChanges([definition('a', 'q1'), definition('b', 'q2'), definition('c', 'q3')], [{ name: 'a', query: 'q1' }, { name: 'b', query: 'old' }]);
    expect([changes.create.map((made) => made.name), changes.update.map((made) => made.name)]).toEqual([['c'], ['b']]);
  });

  it('lists a query reading FROM another database under its ON database', async () => {
    const port = memoryPort();
    await createContinuousQuery(created('CREATE CONTINUOUS QUERY c ON db1 BEGIN SELECT mean(value) INTO m FROM db2..cpu GROUP BY time(1h) END'), port, () => Promise.resolve([]), NOW_NANOS);
    expect(port.definitions.map((definition) => [definition.database, definition.destinationDatabase])).toEqual([['db2', 'db1']]);
    expect(showContinuousQueries(port, ['db1', 'db2'], () => true).map((series) => [series.name, series.values.map((row) => row[0])])).toEqual([
      ['db1', ['c']],
      ['db2', []],
    ]);
  });

  it.each([
    ['several measurements INTO one', 'CREATE CONTINUOUS QUERY c ON db1 BEGIN SELECT mean(*) INTO x FROM /.*/ GROUP BY time(1h) END', [CPU, MEM]],
    ['a wildcard no field matches', 'CREATE CONTINUOUS QUERY c ON db1 BEGIN SELECT mean(*) INTO x FROM flags GROUP BY time(1h) END', [FLAGS]],
    ['a regex matching nothing', 'CREATE CONTINUOUS QUERY c ON db1 BEGIN SELECT mean(*) INTO db2..:MEASUREMENT FROM /^z/ GROUP BY time(1h) END', []],
    ['INTO the measurement it reads', 'CREATE CONTINUOUS QUERY c ON db1 BEGIN SELECT mean(*) INTO db1.autogen.:MEASUREMENT FROM /.*/ GROUP BY time(1h),* END', [CPU, MEM]],
    ['an alias on fn(*)', 'CREATE CONTINUOUS QUERY c ON db1 BEGIN SELECT mean(*) AS m INTO x FROM cpu GROUP BY time(1h) END', [CPU]],
  ])('refuses %s', (_label, text, sources) => {
    expect(() => continuousQueryDefinitions(created(text), '', sources, NOW_NANOS)).toThrow(/not supported by Arc/);
  });

  it.each([
    ['CREATE CONTINUOUS QUERY m ON db1 BEGIN SELECT mean(*) INTO :MEASUREMENT FROM cpu GROUP BY time(1h) END', 'error parsing query: found :, expected identifier at line 1, char 60'],
    ['CREATE CONTINUOUS QUERY m ON db1 BEGIN SELECT mean(*) INTO db2..:FOO FROM cpu GROUP BY time(1h) END', 'error parsing query: found FOO, expected MEASUREMENT at line 1, char 66'],
  ])('parses INTO :MEASUREMENT only after a dot, as InfluxDB: %s', (text, message) => {
    const parsed = parseQuery(text);
    expect(isParseError(parsed) ? parsed.message : 'parsed').toBe(message);
  });

  it('parses INTO db..:measurement in any case', () => {
    expect(created('CREATE CONTINUOUS QUERY m ON db1 BEGIN SELECT mean(*) INTO db2..:measurement FROM cpu GROUP BY time(1h) END').into).toEqual({ database: 'db2', measurement: '', measurementBackReference: true });
    expect(created('CREATE CONTINUOUS QUERY m ON db1 BEGIN SELECT mean(*) INTO autogen.:MEASUREMENT FROM cpu GROUP BY time(1h) END').into).toEqual({ database: null, retentionPolicy: 'autogen', measurement: '', measurementBackReference: true });
  });

  it.each([
    ['a sub-second offset', 'CREATE CONTINUOUS QUERY c ON db1 BEGIN SELECT count(value) INTO x FROM cpu GROUP BY time(1m, 1500ms) END'],
    ['a sub-second RESAMPLE EVERY', 'CREATE CONTINUOUS QUERY c ON db1 RESAMPLE EVERY 1500ms BEGIN SELECT count(value) INTO x FROM cpu GROUP BY time(1s) END'],
    ['GROUP BY * without the schema', 'CREATE CONTINUOUS QUERY c ON db1 BEGIN SELECT mean(value) INTO x FROM cpu GROUP BY time(1m), * END'],
    ["tz() of a DST zone with 1d windows", "CREATE CONTINUOUS QUERY c ON db1 BEGIN SELECT mean(value) INTO x FROM cpu GROUP BY time(1d) tz('Europe/Paris') END"],
    ["tz() of a DST zone with 2h windows", "CREATE CONTINUOUS QUERY c ON db1 BEGIN SELECT mean(value) INTO x FROM cpu GROUP BY time(2h) tz('America/Chicago') END"],
    ['a raw field', 'CREATE CONTINUOUS QUERY c ON db1 BEGIN SELECT value INTO x FROM cpu GROUP BY time(1m) END'],
    ['a regex FROM', 'CREATE CONTINUOUS QUERY c ON db1 BEGIN SELECT count(value) INTO x FROM /^c/ GROUP BY time(1m) END'],
  ])('refuses %s with a statement error', (_label, text) => {
    expect(() => continuousQueryDefinition(created(text), '', NOW_NANOS)).toThrow(/not supported by Arc/);
  });
});
