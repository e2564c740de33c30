import { configDefaults, defineConfig } from 'vitest/config';

// Fault tests (`*.fault.test.ts`, `make test-faults`) run only with ARC_FAULT_TESTS=1: they take
// minutes and load the machine, so `make test` leaves them out.
const FAULT_TESTS = 'packages/server/test/faults/**/*.fault.test.ts';
const faultRun = process.env.ARC_FAULT_TESTS === '1';

// Tests run from TypeScript sources through the `arc-source` export condition; integration tests
// start the built server (dist/) as a child process, so `make test` builds first.
export default defineConfig({
  resolve: { conditions: ['arc-source'] },
  ssr: { resolve: { conditions: ['arc-source'] } },
  test: {
    include: faultRun ? [FAULT_TESTS] : ['packages/*/test/**/*.test.ts', 'bench/test/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: faultRun ? configDefaults.exclude : [...configDefaults.exclude, '**/*.fault.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
