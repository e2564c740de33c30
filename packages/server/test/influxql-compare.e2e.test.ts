// Proves InfluxQL answers match the real InfluxDB 1.6 server's for plain selects, tz() and
// subqueries: the same Telegraf-like line protocol is written to Arc and to a local influxd, the
// same queries run on both, and the JSON answers are compared whole (RFC 3339 times included).
import { describe, expect, it } from 'vitest';
import { influxdAvailable } from './support/influxd-process.js';
import { useComparison } from './support/influxql-compare.js';

const RANGE = 'time >= 1700000000000ms AND time <= 1700000599999ms';
/** Four days over Europe's change from summer time (2023-10-29T01:00:00Z). */
const DST = "time >= '2023-10-27T00:00:00Z' AND time < '2023-10-31T00:00:00Z'";

describe.skipIf(!influxdAvailable())('InfluxQL against InfluxDB 1.6', () => {
  const comparison = useComparison();

  it.each([
    `SELECT usage_idle FROM cpu WHERE host = 'server-a' AND ${RANGE} LIMIT 3`,
    'SELECT mean(usage_idle) FROM cpu',
    'SELECT max(usage_user) FROM cpu GROUP BY host',
    // tz(): local bucket boundaries (1d across a DST change is 25 hours) and local times.
    `SELECT count(uptime), max(load1) FROM system WHERE ${DST} GROUP BY time(1d) tz('Europe/Paris')`,
    `SELECT count(uptime) FROM system WHERE time >= '2023-10-28T20:00:00Z' AND time < '2023-10-29T08:00:00Z' GROUP BY time(6h) tz('Europe/Paris')`,
    `SELECT count(uptime) FROM system WHERE time >= '2023-10-28T22:00:00Z' AND time < '2023-10-29T04:00:00Z' GROUP BY time(1h) tz('Europe/Paris')`,
    `SELECT mean(load1) FROM system WHERE ${DST} GROUP BY time(12h) fill(0) tz('Asia/Kolkata')`,
    `SELECT non_negative_derivative(max(uptime), 1h) FROM system WHERE ${DST} GROUP BY time(1d) tz('Europe/Paris')`,
    `SELECT max(usage_idle) FROM cpu WHERE ${RANGE} GROUP BY time(5m) tz('Asia/Kolkata')`,
    `SELECT usage_idle FROM cpu WHERE host = 'server-a' AND ${RANGE} LIMIT 2 tz('America/New_York')`,
    `SELECT last(uptime) FROM system WHERE ${DST} tz('Europe/Paris')`,
    // One level of subquery: the inner answer (fill and transformations included) is the measurement.
    `SELECT max(m) FROM (SELECT mean(usage_idle) AS m FROM cpu WHERE ${RANGE} GROUP BY time(1m), host) GROUP BY host`,
    `SELECT mean(d) FROM (SELECT non_negative_derivative(max(bytes_recv), 1s) AS d FROM net WHERE ${RANGE} GROUP BY time(1m), host) WHERE ${RANGE} GROUP BY time(5m)`,
    `SELECT sum(m) FROM (SELECT max(used) AS m FROM mem WHERE ${RANGE} GROUP BY host)`,
    // (InfluxDB 1.6 types used / total over two integer fields as an integer inside a subquery and
    // truncates it; Arc keeps the float: docs/influxql.md. Float fields here.)
    `SELECT * FROM (SELECT 100 - used_percent AS free FROM mem WHERE host = 'server-a' AND ${RANGE} LIMIT 3)`,
    `SELECT free FROM (SELECT 100 - used_percent AS free FROM mem WHERE ${RANGE} GROUP BY host) WHERE free > 70 AND ${RANGE} GROUP BY host LIMIT 2`,
    `SELECT count(v) FROM (SELECT max(usage_idle) AS v FROM cpu WHERE host = 'server-b' AND ${RANGE} GROUP BY time(1m) fill(0))`,
  ])('%s', async (q) => {
    const { arc, influx } = await comparison.both(q);
    expect(arc).toEqual(influx);
  });
});
