// Proves the main thread's meters keep labels bounded and numbers exact: databases past the cap
// fold into `other`, every refusal maps to a reason of the closed set, histogram quantiles
// interpolate inside their bucket, the Accept header picks the format, and the console's ring
// keeps at most its points.
import { describe, expect, it } from 'vitest';
import { ErrorKind } from '@arc/errors';
import { PayloadFormat } from '@arc/ingest';
import { IngestMeter, REJECT_REASONS, rejectReasonOf } from '../src/metrics-ingest.js';
import { metricsFormatOf } from '../src/metrics-registry.js';
import { CounterFamily, HistogramFamily, histogramQuantile } from '../src/metrics-series.js';
import { RecentValues } from '../src/metrics-timeseries.js';

describe('IngestMeter', () => {
  it('names the first databases up to the cap and counts every later one as other', () => {
    const meter = new IngestMeter(2);
    for (const database of ['a', 'b', 'c', 'd', 'a']) meter.written(PayloadFormat.lineProtocol, database, 10, 5, null);
    const rows = Object.fromEntries(meter.rows.samples().map((sample) => [sample.labels.database, sample.value]));
    expect(rows).toEqual({ a: 10, b: 5, other: 10 });
    expect(meter.requests.total()).toBe(5);
    expect(meter.bytes.total()).toBe(50);
  });

  it('counts a refused write with its bytes but no rows, under its reason; 503s as overload', () => {
    const meter = new IngestMeter(10);
    meter.written(PayloadFormat.msgpack, 'a', 100, 7, { kind: ErrorKind.badRequest, code: 'ARC_MSGPACK_BAD', message: 'bad' });
    meter.written(PayloadFormat.msgpack, 'a', 100, 0, { kind: ErrorKind.unavailable, code: 'ARC_INGEST_BUSY', message: 'busy' });
    expect(meter.rows.total()).toBe(0);
    expect(meter.bytes.total()).toBe(200);
    expect(Object.fromEntries(meter.rejects.samples().map((sample) => [sample.labels.reason, sample.value]))).toEqual({ bad_request: 1, in_flight_full: 1 });
    expect(meter.overloadResponses).toBe(1);
  });

  it('maps every error kind to a reason of the closed set', () => {
    for (const kind of Object.values(ErrorKind)) expect(REJECT_REASONS).toContain(rejectReasonOf({ kind, code: 'ARC_ANYTHING' }));
    expect(rejectReasonOf({ kind: ErrorKind.unavailable, code: 'ARC_BUFFERS_FULL' })).toBe('buffers_full');
    expect(rejectReasonOf({ kind: ErrorKind.unavailable, code: 'ARC_STARTING' })).toBe('not_ready');
    expect(rejectReasonOf({ kind: ErrorKind.unavailable, code: 'ARC_INGEST_WAIT_TIMEOUT' })).toBe('wait_timeout');
    expect(rejectReasonOf({ kind: ErrorKind.unavailable, code: 'ARC_INGEST_STOPPED_WAITING' })).toBe('not_ready');
    expect(rejectReasonOf({ kind: ErrorKind.forbidden, code: 'ARC_X' })).toBe('unauthorized');
  });
});

describe('waits', () => {
  it('counts each ended wait by outcome and its duration in seconds', () => {
    const meter = new IngestMeter(10);
    meter.waitEnded(20, 'handed_over');
    meter.waitEnded(4000, 'timed_out');
    expect(Object.fromEntries(meter.waits.samples().map((sample) => [sample.labels.outcome, sample.value]))).toEqual({ handed_over: 1, timed_out: 1 });
    expect(meter.waitSeconds.snapshot([])).toMatchObject({ count: 2, sum: 4.02 });
  });
});

describe('series', () => {
  it('estimates quantiles inside the bucket that holds them', () => {
    const family = new HistogramFamily(['route'], [0.1, 0.2, 0.4]);
    const cell = family.series(['/x']);
    for (let index = 0; index < 10; index++) cell.observe(0.15);
    const snapshot = family.snapshot(['/x']);
    expect(snapshot?.count).toBe(10);
    // All ten in (0.1, 0.2]: the median is half-way through that bucket.
    expect(histogramQuantile(0.5, snapshot ?? { bounds: [], cumulative: [], sum: 0, count: 0 })).toBeCloseTo(0.15, 9);
    expect(histogramQuantile(0.5, { bounds: [1], cumulative: [0, 0], sum: 0, count: 0 })).toBeNull();
    expect(family.samples('h').filter((sample) => sample.metricName === 'h_bucket').map((sample) => sample.value)).toEqual([0, 10, 10, 10]);
  });

  it('adds counter cells and refuses a label set of the wrong size', () => {
    const family = new CounterFamily(['a', 'b']);
    family.series(['x', 'y']).value += 2;
    family.add(['x', 'y']);
    expect(family.samples()).toEqual([{ value: 3, labels: { a: 'x', b: 'y' } }]);
    expect(() => family.add(['x'])).toThrow();
  });
});

describe('negotiation and the console ring', () => {
  it('answers OpenMetrics or JSON when the Accept header names them, else Prometheus text', () => {
    expect(metricsFormatOf('application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1')).toBe('openmetrics');
    expect(metricsFormatOf('application/json')).toBe('json');
    expect(metricsFormatOf('text/plain')).toBe('text');
    expect(metricsFormatOf('')).toBe('text');
  });

  it('keeps at most its points, oldest dropped first', () => {
    let reads = 0;
    const recent = new RecentValues({ counter: () => ({ value: ++reads }) }, 60_000, 3);
    for (let index = 0; index < 5; index++) recent.sample();
    recent.stop();
    expect(recent.points('counter')?.map((point) => point.values.value)).toEqual([4, 5, 6]);
    expect(recent.points('missing')).toBeNull();
    expect(recent.types).toEqual(['counter']);
  });
});
