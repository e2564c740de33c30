import { z } from 'zod';
import { lastCacheBodySchema, lastCacheDeleteSchema } from '../last-cache-routes.js';
import type { ApiOperation, ApiResponse } from './api-operation.js';

/**
 * Last-value caches (last-cache-routes.ts), spelled as InfluxDB 3 spells them. Request bodies are
 * the zod schemas the routes validate with.
 */

const json = (schema: z.ZodType, description: string): ApiResponse => ({ description, content: { 'application/json': schema } });

const lastCacheSchema = z.looseObject({
  db: z.string(),
  table: z.string(),
  name: z.string(),
  key_columns: z.array(z.string()),
  value_columns: z.array(z.string()).nullable().meta({ description: 'null: every column but the keys, including columns added later.' }),
  count: z.number(),
  ttl: z.number().meta({ description: 'Seconds.' }),
});

const PATH = '/api/v3/configure/last_cache';

export const LAST_CACHE_OPERATIONS: readonly ApiOperation[] = [
  {
    method: 'get',
    paths: [PATH],
    id: 'listLastCaches',
    tag: 'last value cache',
    summary: 'List the last-value caches of readable databases',
    access: 'read',
    query: z.object({ db: z.string().optional() }),
    responses: { 200: json(z.array(lastCacheSchema), 'The caches.') },
    errors: [500],
  },
  {
    method: 'post',
    paths: [PATH],
    id: 'createLastCache',
    tag: 'last value cache',
    summary: 'Create a last-value cache',
    description:
      "Flushes the table's buffered rows, then seeds the cache from its files: each key's newest `count` rows. Writes keep it current from then on, buffered rows included; read it with `SELECT ... FROM last_cache('table'[, 'name'])`. The default name is `<table>_<key columns>_last_cache`. 404 ARC_MEASUREMENT_NOT_FOUND for a table without files, 409 ARC_LAST_CACHE_EXISTS.",
    access: 'admin',
    body: { required: true, content: { 'application/json': lastCacheBodySchema } },
    responses: { 201: json(lastCacheSchema, 'Created and seeded.') },
    errors: [400, 404, 409, 500],
  },
  {
    method: 'delete',
    paths: [PATH],
    id: 'deleteLastCache',
    tag: 'last value cache',
    summary: 'Delete a last-value cache',
    description: 'db, table and name as query parameters (as InfluxDB 3 takes them) or as a JSON body. 404 ARC_LAST_CACHE_NOT_FOUND.',
    access: 'admin',
    query: z.object({ db: z.string().optional(), table: z.string().optional(), name: z.string().optional() }),
    body: { required: false, content: { 'application/json': lastCacheDeleteSchema } },
    responses: { 200: json(z.looseObject({ message: z.string(), db: z.string(), table: z.string(), name: z.string() }), 'Deleted.') },
    errors: [400, 404, 500],
  },
];
