// Test support shared by every package's tests: temporary directories removed after their test
// file, so that test runs leave nothing behind in the system's temp directory.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';

const made: string[] = [];

// Registered while vitest collects the importing test file (it evaluates this module afresh for
// each file), so it is the file's first after-hook and runs last: after the file's own hooks
// closed whatever still writes into these directories.
afterAll(async () => {
  for (const directory of made.splice(0)) await rm(directory, { recursive: true, force: true });
});

/**
 * A fresh directory under the system's temp directory, its name `prefix` and six random
 * characters, removed with everything in it after the calling file's last test; callable from a
 * test or any hook. A path a test keeps beside its directory is not removed: put it inside.
 */
export async function tempDirectory(prefix: string): Promise<string> {
  const directory = await mkdtemp(path.join(tmpdir(), prefix));
  made.push(directory);
  return directory;
}
