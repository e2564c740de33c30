// Proves Arc's InfluxQL transformations (derivative and its kin, moving_average, cumulative_sum,
// elapsed) answer what the real InfluxDB 1.6 server answers: both get the same Telegraf-like
// line protocol, run the same queries (as Grafana's Telegraf dashboards send them), and the
// whole JSON answers are compared.
import { describe, expect, it } from 'vitest';
import { influxdAvailable } from './support/influxd-process.js';
import { useComparison } from './support/influxql-compare.js';

/** Grafana's time filter for the 10 minutes of data, and the same window cut after the gap. */
const RANGE = 'time >= 1700000000000ms AND time <= 1700000599999ms';
const LATE = 'time >= 1700000100s AND time < 1700000400s';

describe.skipIf(!influxdAvailable())('InfluxQL transformations against InfluxDB 1.6', () => {
  const comparison = useComparison();

  it.each([
    `SELECT non_negative_derivative(max("bytes_recv"), 1s) * 8 FROM "net" WHERE ${RANGE} GROUP BY time(30s), "host" fill(null)`,
    `SELECT non_negative_derivative(max("bytes_recv"), 1s) AS "in", non_negative_derivative(max("bytes_sent"), 1s) AS "out" FROM "net" WHERE host = 'server-b' AND ${RANGE} GROUP BY time(1m)`,
    `SELECT non_negative_derivative(mean("reads"), 1s) FROM "diskio" WHERE ${RANGE} GROUP BY time(1m), "host", "name" fill(none)`,
    `SELECT derivative(max(bytes_recv)) FROM net WHERE ${LATE} GROUP BY time(30s), host`,
    `SELECT derivative(max(bytes_recv), 10s) FROM net WHERE ${LATE} GROUP BY time(30s), host fill(0)`,
    `SELECT derivative(bytes_recv) FROM net WHERE ${LATE} GROUP BY host`,
    `SELECT derivative(bytes_recv, 1m) FROM net WHERE host = 'server-a' AND ${LATE}`,
    `SELECT non_negative_derivative(bytes_recv) FROM net WHERE host = 'server-c' AND ${LATE}`,
    `SELECT difference(max(bytes_recv)) FROM net WHERE ${LATE} GROUP BY time(30s), host fill(0)`,
    `SELECT difference(max(bytes_recv)) FROM net WHERE ${LATE} GROUP BY time(30s), host fill(previous)`,
    `SELECT non_negative_difference(max(bytes_recv)) FROM net WHERE ${LATE} GROUP BY time(30s), host`,
    `SELECT difference(reads) FROM diskio WHERE host = 'server-a' AND ${LATE}`,
    `SELECT moving_average(mean(usage_idle), 3) FROM cpu WHERE ${LATE} GROUP BY time(30s), host`,
    `SELECT moving_average(usage_idle, 4) FROM cpu WHERE host = 'server-b' AND ${LATE}`,
    `SELECT cumulative_sum(max(reads)) FROM diskio WHERE ${LATE} GROUP BY time(1m), host`,
    `SELECT cumulative_sum(reads) FROM diskio WHERE host = 'server-c' AND ${LATE}`,
    `SELECT elapsed(max(bytes_recv)) FROM net WHERE ${LATE} GROUP BY time(30s), host`,
    `SELECT elapsed(bytes_recv, 1s) FROM net WHERE host = 'server-b' AND ${RANGE}`,
    // The interval read before the lower bound (probe has points before T0, one bucket holds both).
    'SELECT difference(max(v)) FROM probe WHERE time >= 1700000000s AND time < 1700000100s GROUP BY time(30s)',
    'SELECT derivative(max(v)) FROM probe WHERE time >= 1700000000s AND time < 1700000100s GROUP BY time(30s) fill(0)',
    'SELECT cumulative_sum(max(v)) FROM probe WHERE time >= 1700000000s AND time < 1700000100s GROUP BY time(30s)',
    `SELECT derivative(mean(usage_idle)), mean(usage_idle) FROM cpu WHERE host = 'server-b' AND ${RANGE} GROUP BY time(1m)`,
    `SELECT difference(usage_idle) FROM cpu WHERE host = 'server-c' AND ${RANGE} LIMIT 3 OFFSET 2`,
    `SELECT elapsed(mean(usage_idle), 1m) FROM cpu WHERE host = 'server-b' AND ${RANGE} GROUP BY time(1m) fill(0)`,
    `SELECT cumulative_sum(mean(usage_idle)) FROM cpu WHERE host = 'server-b' AND ${RANGE} GROUP BY time(1m) fill(previous)`,
    `SELECT moving_average(max(usage_idle), 3) * 2 AS twice FROM cpu WHERE ${RANGE} GROUP BY time(1m), host SLIMIT 2`,
    // Newest first, InfluxDB transforms the points in that order (differences change sign).
    `SELECT non_negative_derivative(max(bytes_recv), 1s) FROM net WHERE ${LATE} GROUP BY time(30s), host ORDER BY time DESC LIMIT 3`,
    `SELECT derivative(bytes_recv), elapsed(bytes_recv, 1s) FROM net WHERE host = 'server-a' AND ${LATE} ORDER BY time DESC`,
    `SELECT difference(max(bytes_recv)), moving_average(max(bytes_recv), 2) FROM net WHERE ${LATE} GROUP BY time(30s), host fill(0) ORDER BY time DESC`,
  ])('%s', async (q) => {
    const { arc, influx } = await comparison.both(q, { epoch: 's' });
    expect(arc).toEqual(influx);
  });

  // As Grafana's Telegraf system dashboards send them ($timeFilter, $interval, $server filled in).
  it.each([
    `SELECT mean("usage_user") AS "user", mean("usage_system") AS "system", mean("usage_idle") AS "idle" FROM "cpu" WHERE "host" =~ /^server-a$/ AND "cpu" = 'cpu-total' AND ${RANGE} GROUP BY time(30s), * ORDER BY asc`,
    `SELECT non_negative_derivative(mean("bytes_recv"), 1s) * 8 AS "in", non_negative_derivative(mean("bytes_sent"), 1s) * 8 AS "out" FROM "net" WHERE "host" =~ /^server-c$/ AND "interface" =~ /^eth0$/ AND ${RANGE} GROUP BY time(30s), * fill(none)`,
    `SELECT 100 - mean("usage_idle") FROM "cpu" WHERE "cpu" = 'cpu-total' AND ${RANGE} GROUP BY time(30s), "host" fill(null)`,
    `SELECT mean("used_percent") FROM "disk" WHERE "host" =~ /^server-b$/ AND ${RANGE} GROUP BY time(1m), "path" fill(null)`,
    `SELECT mean("total") AS "total", mean("used") AS "used", mean("available") AS "available" FROM "mem" WHERE "host" =~ /^server-b$/ AND ${RANGE} GROUP BY time(1m), "host" fill(none)`,
    `SELECT non_negative_derivative(max("reads"), 10s) FROM "diskio" WHERE "host" =~ /^server-a$/ AND "name" =~ /sd[a-z]$/ AND ${RANGE} GROUP BY time(30s), "name" fill(none)`,
    `SELECT last("used_percent") FROM "mem" WHERE "host" =~ /^server-a$/ AND ${RANGE}`,
    `SELECT max("used_percent") FROM "disk" WHERE ${RANGE} GROUP BY "path", "host"`,
  ])('dashboard: %s', async (q) => {
    const { arc, influx } = await comparison.both(q, { epoch: 'ms' });
    expect(arc).toEqual(influx);
  });

  it('answers RFC 3339 times as InfluxDB does', async () => {
    const { arc, influx } = await comparison.both(`SELECT non_negative_derivative(max(bytes_recv), 1s) FROM net WHERE ${LATE} GROUP BY time(1m), host`);
    expect(arc).toEqual(influx);
  });
});
