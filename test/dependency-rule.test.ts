// Proves the dependency rule (.dependency-cruiser.cjs, `npm run depcheck`) fails on an import against
// the data flow: it runs the cruiser with the project's own config over small package trees laid out
// like the repository in a temp directory, one with each wrong import and one with only right ones.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CONFIG = path.join(ROOT, '.dependency-cruiser.cjs');
const CRUISER = path.join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');

interface Violation { rule: { name: string }; from: string; to: string }
interface CruiseResult { summary: { violations: Violation[]; totalCruised: number } }

const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

/** Lays out packages/<name>/src/index.ts for each package plus the given extra files, linked as workspaces. */
function layOut(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(tmpdir(), 'arc-depcheck-'));
  directories.push(root);
  mkdirSync(path.join(root, 'node_modules/@arc'), { recursive: true });
  writeFileSync(path.join(root, 'tsconfig.tests.json'), JSON.stringify({ compilerOptions: { module: 'nodenext', allowJs: true } }));
  for (const name of ['config', 'storage', 'writer', 'query', 'server']) {
    const directory = path.join(root, 'packages', name);
    mkdirSync(path.join(directory, 'src'), { recursive: true });
    const exports = { '.': { 'arc-source': './src/index.ts', default: './dist/index.js' } };
    writeFileSync(path.join(directory, 'package.json'), JSON.stringify({ name: `@arc/${name}`, type: 'module', exports }));
    writeFileSync(path.join(directory, 'src/index.ts'), `export const ${name}Name = '${name}';\n`);
    symlinkSync(path.join('..', '..', 'packages', name), path.join(root, 'node_modules/@arc', name));
  }
  for (const [file, text] of Object.entries(files)) writeFileSync(path.join(root, file), text);
  return root;
}

function cruise(root: string): CruiseResult {
  const run = spawnSync(process.execPath, [CRUISER, '--config', CONFIG, '--output-type', 'json', 'packages'], { cwd: root, encoding: 'utf8' });
  expect(run.stderr).toBe('');
  return JSON.parse(run.stdout) as CruiseResult;
}

function ruleNames(result: CruiseResult): string[] {
  return result.summary.violations.map((violation) => `${violation.rule.name}: ${violation.from} -> ${violation.to}`).sort();
}

describe('the dependency rule', () => {
  it('accepts imports that follow the data flow through front doors', () => {
    const root = layOut({
      'packages/writer/src/flush.ts': "import { storageName } from '@arc/storage';\nimport { configName } from '@arc/config';\nexport const names = [storageName, configName];\n",
      'packages/storage/src/files.ts': "import { readdirSync } from 'node:fs';\nexport const list = readdirSync;\n",
    });
    const result = cruise(root);
    expect(result.summary.totalCruised).toBeGreaterThan(5);
    expect(ruleNames(result)).toEqual([]);
  });

  it('fails when writer imports server (upstream), names the rule', () => {
    const root = layOut({ 'packages/writer/src/flush.ts': "import { serverName } from '@arc/server';\nexport const name = serverName;\n" });
    expect(ruleNames(cruise(root))).toEqual(['package-graph-writer: packages/writer/src/flush.ts -> packages/server/src/index.ts']);
  });

  it('fails when query touches the disk with node:fs', () => {
    const root = layOut({ 'packages/query/src/scan.ts': "import { readdirSync } from 'node:fs';\nexport const scan = readdirSync;\n" });
    expect(ruleNames(cruise(root))).toEqual(['fs-only-in-storage-and-wal: packages/query/src/scan.ts -> fs']);
  });

  it('fails when a package reaches into another by a relative path', () => {
    const root = layOut({ 'packages/server/src/routes.ts': "import { queryName } from '../../query/src/index.ts';\nexport const name = queryName;\n" });
    expect(ruleNames(cruise(root))).toEqual(['no-relative-import-across-packages: packages/server/src/routes.ts -> packages/query/src/index.ts']);
  });
});
