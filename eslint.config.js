// ESLint (flat config): typescript-eslint's strictTypeChecked and stylisticTypeChecked, with type
// information, over every package's sources and tests and the benchmarks. `npm run lint`;
// `make test` runs it before the tests. Each rule turned off below says why (docs/decisions.md).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const TYPESCRIPT_FILES = ['packages/*/src/**/*.ts', 'packages/*/test/**/*.ts', 'bench/**/*.ts', 'test/**/*.ts'];
const JAVASCRIPT_FILES = ['bench/**/*.mjs', 'scripts/**/*.mjs', '*.js', '*.cjs'];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'packages/*/test/fixtures/**'] },
  {
    files: TYPESCRIPT_FILES,
    extends: [js.configs.recommended, ...tseslint.configs.strictTypeChecked, ...tseslint.configs.stylisticTypeChecked],
    languageOptions: {
      parserOptions: {
        // Sources are typed by each package's tsconfig.json, tests and bench tests by
        // tsconfig.tests.json: the same programs `tsc -b` and `make test` check.
        project: ['packages/*/tsconfig.json', 'tsconfig.tests.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // Error messages name numbers (byte offsets, line numbers, counts): numbers (and bigints) and
      // booleans print as expected in a template; objects and `unknown` stay forbidden.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      // `(x) => doSomething(x)` callbacks and `return sendError(...)` guard clauses in functions that
      // return void are house style.
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true, ignoreVoidReturningFunctions: true }],
      // It asks for `x!` in place of `x as T`; house style is neither: assert the invariant.
      '@typescript-eslint/non-nullable-type-assertion-style': 'off',
      // Records read by a string key (DuckDB rows, env) are written `row['column_name']`, which says
      // the key is data, not a declared property.
      '@typescript-eslint/dot-notation': ['error', { allowIndexSignaturePropertyAccess: true }],
    },
  },
  {
    // In a test a wrong `!` fails the test at that line, which is what an assert would do; tests
    // read untyped JSON and msgpack answers and check their shape with expect().
    files: ['packages/*/test/**/*.ts', 'bench/test/**/*.ts', 'test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    // limits.ts (and frames.ts) assert the relations between their constants at module load (house
    // style): the rule sees constants and calls each assertion always true, which is the point.
    files: ['packages/*/src/limits.ts', 'packages/*/src/frames.ts'],
    rules: { '@typescript-eslint/no-unnecessary-condition': 'off' },
  },
  {
    // The benchmarks and scripts are plain JavaScript (checkJs is off), so type-aware rules would
    // only report `any`: they get ESLint's recommended rules.
    files: JAVASCRIPT_FILES,
    extends: [js.configs.recommended],
    languageOptions: {
      sourceType: 'module',
      globals: {
        URLSearchParams: 'readonly', process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly',
        setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly',
        setImmediate: 'readonly', performance: 'readonly', fetch: 'readonly', AbortController: 'readonly',
        AbortSignal: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', structuredClone: 'readonly',
        SharedArrayBuffer: 'readonly', Atomics: 'readonly', queueMicrotask: 'readonly', module: 'readonly', require: 'readonly',
      },
    },
  },
);
