import { randomBytes } from 'node:crypto';

/**
 * The test S3 server (scripts/s3-server.sh: a Ceph RADOS Gateway on 127.0.0.1), as its `env`
 * subcommand exports it. Tests that need it skip, saying so, when ARC_TEST_S3_ENDPOINT is unset.
 */
export interface TestS3 {
  readonly endpoint: string;
  readonly accessKey: string;
  readonly secretKey: string;
  readonly bucket: string;
}

export function testS3(): TestS3 | null {
  const endpoint = process.env.ARC_TEST_S3_ENDPOINT;
  if (endpoint === undefined || endpoint === '') return null;
  return {
    endpoint,
    accessKey: process.env.ARC_TEST_S3_ACCESS_KEY ?? 'arc-test-access',
    secretKey: process.env.ARC_TEST_S3_SECRET_KEY ?? 'arc-test-secret-key-0123456789',
    bucket: process.env.ARC_TEST_S3_BUCKET ?? 'arc-test',
  };
}

export const NO_S3_REASON = 'no test S3 server: run `scripts/s3-server.sh start` and export `scripts/s3-server.sh env` (make test does)';

/** A prefix no other test uses: each test's objects stay apart in the one bucket. */
export function uniquePrefix(label: string): string {
  return `t-${label}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}/`;
}

/** The server environment of a node storing in the test bucket under `prefix`. */
export function s3ServerEnv(s3: TestS3, prefix: string): Record<string, string> {
  return {
    ARC_STORAGE_BACKEND: 'minio',
    ARC_STORAGE_S3_ENDPOINT: s3.endpoint,
    ARC_STORAGE_S3_ACCESS_KEY: s3.accessKey,
    ARC_STORAGE_S3_SECRET_KEY: s3.secretKey,
    ARC_STORAGE_S3_BUCKET: s3.bucket,
    ARC_STORAGE_S3_PREFIX: prefix,
  };
}

/**
 * True under make test-s3 (servers store in the test bucket). Tests that plant faults or files in
 * the local data directory's layout skip then: the object store's own faults have their tests.
 */
export const ON_OBJECT_STORAGE = process.env.ARC_TEST_STORAGE === 's3';
