// Proves every example in the README runs as written against a fresh server: each ```sh block is
// run by bash (curl answering 4xx/5xx fails it) and each ```js block by node, in README order,
// against one server started as `make run` starts it, with `localhost:8000` pointed at that server.
// Blocks that are setup commands (`make run`, `make test`, `make bench`) are fenced ```shell and
// answer shapes ```json or ```text: those are not run.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_TOKEN } from './support/arc-process.js';
import { useSharedArc } from './support/shared-arc.js';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const README_HOST = 'localhost:8000';
/** One example's whole run (a write, a flush, a few queries) takes well under a second here. */
const EXAMPLE_TIMEOUT_MS = 60_000;
/** What curl does in the examples, plus failing on an HTTP error (the examples all expect success). */
const BASH_PRELUDE = 'curl() { command curl --fail-with-body --show-error "$@"; }\n';

interface Example {
  readonly line: number;
  readonly language: 'sh' | 'js';
  readonly code: string;
}

function readmeExamples(): Example[] {
  const text = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  const examples: Example[] = [];
  const fence = /^```(\w*)\n([\s\S]*?)^```$/gm;
  for (const match of text.matchAll(fence)) {
    const language = match[1];
    if (language !== 'sh' && language !== 'js') continue;
    const line = text.slice(0, match.index).split('\n').length;
    examples.push({ line, language, code: match[2] ?? '' });
  }
  return examples;
}

const examples = readmeExamples();
const shared = useSharedArc();
// A working directory like a checkout's: node_modules reachable (msgpackr) and `./arc`, nothing else.
const workDir = mkdtempSync(path.join(tmpdir(), 'arc-readme-'));
symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(workDir, 'node_modules'));
symlinkSync(path.join(REPO_ROOT, 'arc'), path.join(workDir, 'arc'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

function run(example: Example): { status: number | null; output: string } {
  const host = new URL(shared.arc.url).host;
  const code = example.code.replaceAll(README_HOST, host);
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? workDir, ARC_TOKEN: TEST_TOKEN, ARC_DATA_DIR: shared.arc.dataDir };
  const result =
    example.language === 'sh'
      ? // stdin ignored: on a socket (libuv's pipes are socketpairs) bash would source bash.bashrc as if run by rshd.
        spawnSync('bash', ['-euo', 'pipefail', '-c', BASH_PRELUDE + code], { cwd: workDir, env, encoding: 'utf8', timeout: EXAMPLE_TIMEOUT_MS, stdio: ['ignore', 'pipe', 'pipe'] })
      : (() => {
          const file = path.join(workDir, `example-${example.line}.mjs`);
          writeFileSync(file, code);
          return spawnSync(process.execPath, [file], { cwd: workDir, env, encoding: 'utf8', timeout: EXAMPLE_TIMEOUT_MS, stdio: ['ignore', 'pipe', 'pipe'] });
        })();
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('README examples', () => {
  it('has examples to run', () => {
    expect(examples.length).toBeGreaterThanOrEqual(10);
  });

  it.each(examples.map((example) => [`line ${example.line}: ${example.code.split('\n')[0] ?? ''}`, example] as const))(
    '%s',
    (_, example) => {
      const { status, output } = run(example);
      expect(status, output).toBe(0);
      // A `// 204`-style note after console.log in a js example is the output it promises.
      for (const promised of example.code.matchAll(/console\.log\([^)]*\);\s*\/\/\s*(\S+)/g)) expect(output).toContain(promised[1]);
    },
    EXAMPLE_TIMEOUT_MS,
  );
});
