// Proves that bench/ingest's and bench/query's --storage flag gives the spawned server local disk or
// an S3 bucket under a fresh prefix, refuses what it cannot honour, and that the test gateway's
// access lines are counted by kind for the node's prefix and time window, by parsing command lines
// and sample log text.
import { describe, expect, it } from 'vitest';
import { parseOptions as parseIngestOptions } from '../ingest/ingest.mjs';
import { parseOptions as parseQueryOptions } from '../query/query.mjs';
import { countRequests, parseAccessLine, parseStorageOptions, storageEnv, uniquePrefix } from '../lib/s3-target.mjs';

const S3_FLAGS = ['--storage', 's3', '--s3-endpoint', 'http://127.0.0.1:7500', '--s3-access-key', 'ak', '--s3-secret-key', 'sk', '--s3-bucket', 'b', '--s3-region', 'r'];

describe('--storage', () => {
  it('defaults to local disk, and a spawned local server is told so', () => {
    const o = parseIngestOptions(['--spawn']);
    expect(o).toMatchObject({ storage: 'local', s3: null, s3ServerDir: null, env: {} });
    expect(storageEnv(parseStorageOptions({ storage: 'local' }, true, {}), null)).toEqual({ ARC_STORAGE_BACKEND: 'local' });
  });

  it('s3 takes the endpoint, keys, bucket and region from the flags', () => {
    const o = parseIngestOptions(['--spawn', ...S3_FLAGS, '--s3-prefix', 'mine-', '--s3-server-dir', '/tmp/x']);
    expect(o).toMatchObject({ storage: 's3', s3: { endpoint: 'http://127.0.0.1:7500', accessKey: 'ak', secretKey: 'sk', bucket: 'b', region: 'r', prefixBase: 'mine-' }, s3ServerDir: '/tmp/x' });
    expect(storageEnv(o!, 'mine-x/')).toEqual({
      ARC_STORAGE_BACKEND: 'minio',
      ARC_STORAGE_S3_ENDPOINT: 'http://127.0.0.1:7500',
      ARC_STORAGE_S3_ACCESS_KEY: 'ak',
      ARC_STORAGE_S3_SECRET_KEY: 'sk',
      ARC_STORAGE_S3_BUCKET: 'b',
      ARC_STORAGE_S3_REGION: 'r',
      ARC_STORAGE_S3_PREFIX: 'mine-x/',
    });
    expect(parseQueryOptions(['--spawn', ...S3_FLAGS])).toMatchObject({ storage: 's3', coldNode: false, s3: { bucket: 'b' } });
  });

  it('s3 falls back on the ARC_TEST_S3_* variables that scripts/s3-server.sh env prints', () => {
    const env = { ARC_TEST_S3_ENDPOINT: 'http://h:1', ARC_TEST_S3_ACCESS_KEY: 'a', ARC_TEST_S3_SECRET_KEY: 's', ARC_TEST_S3_BUCKET: 'bk', ARC_TEST_S3_DIR: '/srv/s3' };
    expect(parseStorageOptions({ storage: 's3' }, true, env)).toEqual({
      storage: 's3',
      s3: { endpoint: 'http://h:1', accessKey: 'a', secretKey: 's', bucket: 'bk', region: 'us-east-1', prefixBase: 'bench-' },
      s3ServerDir: '/srv/s3',
    });
  });

  it('refuses s3 without an endpoint or without --spawn, s3 flags with local, and unknown storages', () => {
    expect(() => parseStorageOptions({ storage: 's3' }, true, {})).toThrow('--storage s3 needs --s3-endpoint');
    expect(() => parseIngestOptions([...S3_FLAGS])).toThrow('--storage s3 needs --spawn');
    expect(() => parseIngestOptions(['--spawn', '--s3-bucket', 'b'])).toThrow('--s3-bucket needs --storage s3');
    expect(() => parseIngestOptions(['--spawn', '--storage', 'tape'])).toThrow('--storage must be one of local, s3, got tape');
    expect(() => parseIngestOptions(['--spawn', ...S3_FLAGS, '--s3-prefix', 'a/b'])).toThrow('--s3-prefix may hold only');
  });

  it('gives every run a prefix of its own', () => {
    const a = uniquePrefix('bench-', 'ingest');
    expect(a).toMatch(/^bench-ingest-[0-9a-z]+-[0-9a-f]{6}\/$/);
    expect(uniquePrefix('bench-', 'ingest')).not.toBe(a);
  });
});

describe('query --cold-node', () => {
  it('needs the s3 storage', () => {
    expect(parseQueryOptions(['--spawn', ...S3_FLAGS, '--cold-node'])).toMatchObject({ coldNode: true, storage: 's3' });
    expect(() => parseQueryOptions(['--spawn', '--cold-node'])).toThrow('--cold-node needs --storage s3');
  });
});

describe('gateway request counts', () => {
  const at = (hms: string) => `[05/Dec/2026:${hms} +0000]`;
  const line = (when: string, request: string, status = 200) =>
    `2026-12-05T13:27:36.894+0000 7f2db3fc76c0  1 beast: 0x7f2e187f76e0: 127.0.0.1 - arc-test ${at(when)} "${request} HTTP/1.1" ${status} 0 - "MinIO (linux; x64) minio-js/8.0.7" - latency=0.004000000s`;
  const log = [
    line('13:00:00.000', 'PUT /arc-test/p-1/db/cpu/2016/01/01/00/a.parquet'),
    line('13:00:01.000', 'GET /arc-test?delimiter=%2F&encoding-type=url&list-type=2&max-keys=1000&prefix=p-1%2Fdb%2F'),
    line('13:00:02.000', 'GET /arc-test/p-1/db/cpu/2016/01/01/00/a.parquet'),
    line('13:00:03.000', 'HEAD /arc-test/p-1/db/cpu/_schemas/x.json', 404),
    line('13:00:04.000', 'DELETE /arc-test/p-1/db/cpu/2016/01/01/00/a.parquet'),
    line('13:00:05.000', 'PUT /arc-test/p-2/db/cpu/other-node.parquet'),
    line('13:00:09.000', 'PUT /arc-test/p-1/db/cpu/too-late.parquet'),
    '2026-12-05T13:00:00.000+0000 7f2db3fc76c0  1 ====== req done req=0x7f2e187f76e0 op status=0 http_status=200 latency=0.0s ======',
  ].join('\n');

  it('reads the start time, kind and status of an access line, and nothing from other lines', () => {
    expect(parseAccessLine(line('13:00:01.250', 'GET /arc-test?list-type=2&prefix=x'))).toEqual({
      atMs: Date.UTC(2026, 11, 5, 13, 0, 1, 250),
      kind: 'LIST',
      target: '/arc-test?list-type=2&prefix=x',
      status: 200,
    });
    expect(parseAccessLine('2026-12-05T13:00:00.000+0000 7f 1 ====== starting new request req=0x1 =====')).toBeNull();
  });

  it('counts the prefix’s requests of the window by kind, and their rate', () => {
    const c = countRequests(log, 'p-1/', Date.UTC(2026, 11, 5, 13, 0, 0), Date.UTC(2026, 11, 5, 13, 0, 5));
    expect(c.by_kind).toEqual({ PUT: 1, GET: 1, HEAD: 1, LIST: 1, DELETE: 1, POST: 0 });
    expect(c.total).toBe(5);
    expect(c.errors_4xx_5xx).toBe(1);
    expect(c.per_s.PUT).toBe(0.2);
    expect(c.window_s).toBe(5);
  });
});
