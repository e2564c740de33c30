import type { ContinuousQueries, ContinuousQueryFields } from '@arc/compaction';
import type { ContinuousQueryDefinition, ContinuousQueryPort } from '@arc/influxql';

/**
 * InfluxQL's view of Arc's continuous queries (CREATE / SHOW / DROP CONTINUOUS QUERY on /query,
 * packages/influxql continuous-query-statements.ts): the same definitions the
 * /api/v1/continuous_queries endpoints manage, so a query made either way runs the same way, and
 * the store's templates, where a statement Arc re-expands over the data is kept
 * (influxql-cq-expander.ts).
 */
export function continuousQueryPort(cqs: ContinuousQueries): ContinuousQueryPort {
  return {
    list: () => cqs.list().map((cq) => ({ name: cq.name, database: cq.database, query: cq.query, description: cq.description, createdAtMs: Date.parse(cq.createdAt) })),
    create: async (definition) => {
      await cqs.create(fieldsOfDefinition(definition));
    },
    remove: (name) => {
      const cq = cqs.byName(name);
      if (cq !== null) cqs.delete(cq.id);
    },
    templates: () => cqs.templates().map((template) => ({ name: template.name, database: template.database, statement: template.statement, createdAtMs: Date.parse(template.createdAt) })),
    addTemplate: (template) => {
      cqs.addTemplate(template);
    },
    removeTemplate: (name) => {
      cqs.removeTemplate(name);
    },
  };
}

/** An InfluxQL statement's translation as the API's fields (what CREATE and the re-expansion store). */
export function fieldsOfDefinition(definition: ContinuousQueryDefinition): ContinuousQueryFields {
  return {
    name: definition.name,
    description: definition.description,
    database: definition.database,
    source_measurement: definition.sourceMeasurement,
    destination_measurement: definition.destinationMeasurement,
    query: definition.query,
    interval: definition.interval,
    destination_database: definition.destinationDatabase,
    window_offset: definition.windowOffset,
    resample_every: definition.resampleEvery,
    resample_for: definition.resampleFor,
  };
}
