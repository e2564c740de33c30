import { configDefaults, defineConfig } from 'vitest/config';

// Fault tests (`*.fault.test.ts`, `make test-faults`) run only with ARC_FAULT_TESTS=1: they take
// minutes and load the machine, so `make test` leaves them out.
const FAULT_TESTS = 'packages/server/test/faults/**/*.fault.test.ts';
const faultRun = process.env.ARC_FAULT_TESTS === '1';

/**
 * The storage-facing end-to-end tests (they write, query, delete, compact and restart through the
 * HTTP API only) run a second time with every server storing in the test S3 bucket
 * (ARC_TEST_STORAGE=s3, support/arc-process.ts) when the test S3 server is up (`make test` starts
 * it: scripts/s3-server.sh). Tests that plant files in the local layout skip there.
 */
const STORAGE_FACING_TESTS = [
  'compaction',
  'lifecycle',
  'wal',
  'query-http',
  'query-formats',
  'query-stream',
  'json-write',
  'line-protocol',
  'names-case',
  'influxql',
  'auth-tokens',
  'sdk-compat',
  'long-names',
].map((name) => `packages/server/test/${name}.e2e.test.ts`);
const s3Run = !faultRun && (process.env.ARC_TEST_S3_ENDPOINT ?? '') !== '';

const shared = {
  testTimeout: 60_000,
  hookTimeout: 120_000,
  pool: 'forks' as const,
};

// Tests run from TypeScript sources through the `arc-source` export condition; integration tests
// start the built server (dist/) as a child process, so `make test` builds first.
export default defineConfig({
  resolve: { conditions: ['arc-source'] },
  ssr: { resolve: { conditions: ['arc-source'] } },
  test: {
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: {
          ...shared,
          name: faultRun ? 'faults' : 'local',
          include: faultRun ? [FAULT_TESTS] : ['packages/*/test/**/*.test.ts', 'bench/test/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: faultRun ? configDefaults.exclude : [...configDefaults.exclude, '**/*.fault.test.ts'],
        },
      },
      ...(s3Run ? [{ extends: true, test: { ...shared, name: 's3', include: STORAGE_FACING_TESTS, env: { ARC_TEST_STORAGE: 's3' } } }] : []),
    ],
  },
});
