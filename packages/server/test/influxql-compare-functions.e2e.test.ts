// Proves Arc's InfluxQL aggregates, selectors, top/bottom, arithmetic and SELECT * answer what the
// real InfluxDB 1.6 server answers: both get the same Telegraf-like line protocol, run the same
// queries (the Telegraf system dashboards' and their variants), and the whole JSON answers are
// compared.
import { describe, expect, it } from 'vitest';
import { influxdAvailable } from './support/influxd-process.js';
import { roundColumns, useComparison } from './support/influxql-compare.js';

const RANGE = 'time >= 1700000000000ms AND time <= 1700000599999ms';

describe.skipIf(!influxdAvailable())('InfluxQL functions against InfluxDB 1.6', () => {
  const comparison = useComparison();

  it.each([
    // Aggregates as the dashboards' single-stat and graph panels send them.
    `SELECT mean("usage_idle") FROM "cpu" WHERE "cpu" = 'cpu-total' AND ${RANGE} GROUP BY time(1m), "host" fill(null)`,
    `SELECT mean("used_percent") FROM "mem" WHERE ${RANGE} GROUP BY time(2m), "host" fill(linear)`,
    `SELECT median(usage_idle), spread(usage_idle), stddev(usage_idle) FROM cpu WHERE ${RANGE} GROUP BY host`,
    `SELECT median(used), spread(used), stddev(used) FROM mem WHERE ${RANGE} GROUP BY time(2m), host`,
    `SELECT mode(reads), mode(host) FROM diskio WHERE ${RANGE} GROUP BY time(1m), host`,
    'SELECT mode(usage_system) FROM cpu',
    `SELECT mode(reads) FROM diskio WHERE ${RANGE} GROUP BY time(2m), host`,
    `SELECT stddev(usage_idle), stddev(bytes_recv) FROM cpu, net WHERE host = 'server-c' AND ${RANGE}`,
    `SELECT percentile(usage_idle, 95) FROM cpu WHERE ${RANGE} GROUP BY host`,
    // Selectors answer their point's time when not grouped by time.
    `SELECT last("used_percent") FROM "disk" WHERE "path" = '/' AND ${RANGE} GROUP BY "host"`,
    `SELECT first(usage_idle), usage_user FROM cpu WHERE ${RANGE} GROUP BY host`,
    `SELECT percentile(usage_idle, 50), usage_user FROM cpu WHERE ${RANGE} GROUP BY host`,
    `SELECT max(usage_idle), host FROM cpu WHERE ${RANGE}`,
    `SELECT min(bytes_recv) FROM net WHERE ${RANGE} GROUP BY host`,
    `SELECT max(usage_idle) FROM cpu WHERE ${RANGE} GROUP BY time(5m), host`,
    `SELECT last(usage_idle), first(usage_idle) FROM cpu WHERE ${RANGE} GROUP BY host`,
    `SELECT max(*) FROM mem WHERE host = 'server-a' AND ${RANGE}`,
    `SELECT mode(*) FROM diskio WHERE ${RANGE} GROUP BY host`,
    `SELECT median(*), spread(*) FROM net WHERE ${RANGE} GROUP BY time(5m), host`,
    // top and bottom.
    `SELECT top(usage_idle, 3) FROM cpu WHERE ${RANGE}`,
    `SELECT top(usage_idle, host, 2) FROM cpu WHERE ${RANGE}`,
    `SELECT bottom(usage_idle, 2), host FROM cpu WHERE ${RANGE} GROUP BY time(5m)`,
    `SELECT top(usage_idle, 1) FROM cpu WHERE host = 'server-b' AND ${RANGE} GROUP BY time(1m)`,
    `SELECT top(usage_idle, cpu, 2), usage_user FROM cpu WHERE ${RANGE} GROUP BY host`,
    `SELECT bottom(reads, 3) FROM diskio WHERE ${RANGE} GROUP BY host ORDER BY time DESC`,
    `SELECT top(usage_idle, 2) AS t, bottom(usage_idle, 2) FROM cpu WHERE ${RANGE}`,
    // Arithmetic between fields and on aggregates.
    `SELECT used / total * 100 FROM mem WHERE host = 'server-a' AND ${RANGE} LIMIT 5`,
    `SELECT (total - available) / total * 100 AS pct, used FROM mem WHERE ${RANGE} GROUP BY host LIMIT 3`,
    `SELECT mean(used) / mean(total) * 100 FROM mem WHERE ${RANGE} GROUP BY time(2m), host`,
    `SELECT max(usage_user) + max(usage_system) AS busy FROM cpu WHERE ${RANGE} GROUP BY time(5m)`,
    `SELECT max(usage_user) + max(usage_system), min(usage_idle) * -1 FROM cpu WHERE ${RANGE} GROUP BY time(5m), host`,
    `SELECT 100 - mean(usage_idle) FROM cpu WHERE ${RANGE} GROUP BY host`,
    // SELECT * and ordering.
    `SELECT * FROM disk WHERE host = 'server-b' AND ${RANGE} LIMIT 4`,
    `SELECT * FROM net WHERE ${RANGE} GROUP BY host LIMIT 2`,
    `SELECT max(bytes_recv) FROM net WHERE time >= 1700000100s AND time < 1700000160s GROUP BY time(30s), host ORDER BY time DESC`,
    `SELECT bytes_recv FROM net WHERE time >= 1700000100s AND time < 1700000120s GROUP BY host ORDER BY time DESC`,
  ])('%s', async (q) => {
    const { arc, influx } = await comparison.both(q, { epoch: 's' });
    // stddev's last digits depend on the summation order (docs/influxql.md): compared to 12 digits.
    expect(roundColumns(arc, ['stddev', 'stddev_1'])).toEqual(roundColumns(influx, ['stddev', 'stddev_1']));
  });
});
