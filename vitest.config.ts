import { defineConfig } from 'vitest/config';

// Tests run from TypeScript sources through the `arc-source` export condition; integration tests
// start the built server (dist/) as a child process, so `make test` builds first.
export default defineConfig({
  resolve: { conditions: ['arc-source'] },
  ssr: { resolve: { conditions: ['arc-source'] } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'bench/test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
