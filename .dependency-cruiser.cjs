// The dependency rule (`npm run depcheck`, run by `make test`): the package graph of the
// architecture (README "Packages", docs/architecture.md), so an import against the data flow fails
// the build. Packages import each other only by name (their front door, `src/index.ts`), never by a
// relative path or a deep path; and only storage and wal touch the disk with node:fs, apart from the
// commented exceptions below.

// Which Arc packages each package may import: downstream only. errors sits at the bottom and every
// package may import it; server and cli sit on top. Keep in step with each package.json.
const BOTTOM = ['errors', 'config'];
const ALLOWED = {
  errors: [],
  config: ['errors'],
  ring: ['errors'],
  // Per-thread counters in shared memory: every thread that publishes metrics imports it.
  telemetry: ['errors'],
  columnar: [...BOTTOM],
  protocol: [...BOTTOM, 'columnar'],
  storage: [...BOTTOM, 'columnar'],
  wal: [...BOTTOM, 'telemetry', 'columnar'],
  writer: [...BOTTOM, 'telemetry', 'ring', 'columnar', 'storage', 'wal'],
  ingest: [...BOTTOM, 'telemetry', 'ring', 'columnar', 'protocol', 'storage', 'wal', 'writer'],
  compaction: [...BOTTOM, 'telemetry', 'columnar', 'storage'],
  query: [...BOTTOM, 'telemetry', 'columnar', 'storage'],
  influxql: [...BOTTOM, 'columnar', 'storage', 'query'],
  auth: [...BOTTOM, 'telemetry', 'columnar'],
  // Import jobs from other systems: SQLite files and cron schedules as compaction keeps them.
  importer: [...BOTTOM, 'columnar', 'compaction'],
  server: [...BOTTOM, 'telemetry', 'ring', 'columnar', 'protocol', 'storage', 'wal', 'writer', 'ingest', 'query', 'influxql', 'auth', 'compaction', 'importer'],
  cli: [...BOTTOM, 'telemetry', 'ring', 'columnar', 'protocol', 'storage', 'wal', 'writer', 'ingest', 'query', 'influxql', 'auth', 'compaction', 'importer', 'server'],
};
const PACKAGES = Object.keys(ALLOWED);

// node:fs is for storage (the data directory) and wal (its own directory). Everything else that
// needs the file system today is listed here with its reason.
const FS_ALLOWED = [
  '^packages/storage/src/',
  '^packages/wal/src/',
  // Not the data directory:
  '^packages/config/src/config-file\\.ts$', // reads arc.conf
  '^packages/auth/src/token-store\\.ts$', // creates the directory of the token SQLite file
  '^packages/server/src/data-dir-lock\\.ts$', // the lock file that keeps a second server off a data directory
  '^packages/server/src/server\\.ts$', // creates the data directory at start
  '^packages/server/src/import-routes\\.ts$', // spools CSV/Parquet uploads to <data_dir>/import (outside the Parquet tree), deleted after the import
  '^packages/server/src/docs-routes\\.ts$', // reads the Swagger UI and ReDoc files from their npm packages
  '^packages/cli/src/', // the command line reads files named on it
  '^packages/compaction/src/merge-worker\\.ts$', // removes the staged outputs of a failed merge; lists its threads in /proc to lower their priority
];

// A package's entry points, as its package.json `exports` declares them: the front door, and
// entries that keep DuckDB out of the main thread's imports (the encoders, for benchmarks and tests).
const ENTRY_POINTS = ['^packages/[^/]+/src/index\\.ts$', '^packages/query/src/encoders\\.ts$', '^packages/writer/src/parquet-encoder-entry\\.ts$'];

const packageGraphRules = PACKAGES.map((name) => ({
  name: `package-graph-${name}`,
  comment: `${name} may import only ${ALLOWED[name].join(', ') || 'no other Arc package'} (dependencies point downstream)`,
  severity: 'error',
  from: { path: `^packages/${name}/src/` },
  to: {
    path: '^packages/([^/]+)/',
    pathNot: [`^packages/${name}/`, ...ALLOWED[name].map((allowed) => `^packages/${allowed}/`)],
  },
}));

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...packageGraphRules,
    {
      name: 'front-door-only',
      comment: 'another package is imported by its name, which resolves to its src/index.ts, never a file inside it',
      severity: 'error',
      from: { path: '^(packages/([^/]+)/src|bench)/' },
      to: { path: '^packages/', pathNot: ['^packages/$2/', ...ENTRY_POINTS] },
    },
    {
      name: 'tests-front-door-only',
      comment: 'a test imports its own package freely, other packages by name, and may share their test/support helpers',
      severity: 'error',
      from: { path: '^packages/([^/]+)/test/' },
      to: { path: '^packages/', pathNot: ['^packages/$1/', ...ENTRY_POINTS, '^packages/[^/]+/test/support/'] },
    },
    {
      name: 'no-relative-import-across-packages',
      comment: 'a relative path into another package bypasses its front door and its package.json dependencies',
      severity: 'error',
      from: { path: '^packages/([^/]+)/src/' },
      to: { path: '^packages/', pathNot: '^packages/$1/', dependencyTypes: ['local'] },
    },
    {
      name: 'fs-only-in-storage-and-wal',
      comment: 'only storage (the data directory) and wal (its own directory) use node:fs; see FS_ALLOWED for the exceptions',
      severity: 'error',
      from: { path: '^packages/[^/]+/src/', pathNot: FS_ALLOWED },
      to: { dependencyTypes: ['core'], path: '^(node:)?fs(/promises)?$' },
    },
    {
      name: 'no-circular',
      comment: 'a cycle of imports (type-only imports aside) means two modules are one concept or a dependency points the wrong way',
      severity: 'error',
      from: { path: '^(packages|bench)/' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'an import that does not resolve (a deep import the exports map blocks, a typo, a missing dependency)',
      severity: 'error',
      from: { path: '^(packages|bench)/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    // dist/ is not cruised but stays visible as a target, so an import of built internals is caught.
    doNotFollow: { path: ['(^|/)node_modules/', '(^|/)dist/'] },
    exclude: { path: ['(^|/)node_modules/', '^packages/[^/]+/test/fixtures/'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.tests.json' },
    // Workspace packages resolve through the same `arc-source` export condition as the tests, so
    // `@arc/x` lands on packages/x/src/index.ts.
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['arc-source', 'import', 'require', 'node', 'default'],
      extensions: ['.ts', '.mjs', '.js', '.cjs', '.d.ts', '.json'],
      mainFields: ['module', 'main', 'types'],
    },
    moduleSystems: ['es6', 'cjs'],
    reporterOptions: { text: { highlightFocused: true } },
  },
};
