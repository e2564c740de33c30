#!/usr/bin/env node
// Runs the vitest suite and ends with one plain summary line, "N passed, N failed, N skipped",
// so a run that executed no test is visible to CI (vitest's own summary is not its last line).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const directory = mkdtempSync(path.join(tmpdir(), 'arc-test-results-'));
const resultsFile = path.join(directory, 'results.json');
const run = spawnSync(
  process.execPath,
  ['node_modules/vitest/vitest.mjs', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${resultsFile}`, ...process.argv.slice(2)],
  { stdio: 'inherit' },
);
let passed = 0;
let failed = 0;
let skipped = 0;
try {
  const results = JSON.parse(readFileSync(resultsFile, 'utf8'));
  passed = results.numPassedTests;
  failed = results.numFailedTests;
  skipped = results.numPendingTests + results.numTodoTests;
  // A file whose hook (beforeAll/afterAll) failed fails no test, yet the run failed: it counts as
  // one failure, named here, so the summary never reads "0 failed" on a red run.
  for (const file of results.testResults) {
    const testsFailed = file.assertionResults.filter((test) => test.status === 'failed').length;
    if (file.status !== 'failed' || testsFailed > 0) continue;
    failed += 1;
    console.log(`failed outside any test: ${path.relative(process.cwd(), file.name)}`);
  }
} catch (error) {
  console.error(`could not read vitest results: ${error.message}`);
  failed = Math.max(failed, 1);
}
// vitest failed for a reason the report does not show (an unhandled error between tests).
if (run.status !== 0) failed = Math.max(failed, 1);
rmSync(directory, { recursive: true, force: true });
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(run.status === 0 && failed === 0 && passed > 0 ? 0 : 1);
