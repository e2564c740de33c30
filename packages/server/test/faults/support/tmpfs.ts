import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmdirSync } from 'node:fs';
import { open, rm, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * A small tmpfs a fault test mounts for itself, to fill the disk under a real server. Mounting
 * needs root (CI runs as root); `tmpfsUnavailable` says why it cannot be done here, so the test
 * is skipped with that reason instead of failing.
 */
export interface Tmpfs {
  readonly directory: string;
  /** Fills every free byte with a file; resolves once a write got ENOSPC. */
  fill(): Promise<void>;
  /** Deletes what `fill` wrote. */
  free(): Promise<void>;
  /** Grows the filesystem (mount -o remount,size=...). */
  grow(sizeMb: number): void;
  unmount(): void;
}

const FILL_CHUNK_BYTES = 1024 * 1024;
const FILLER_NAME = 'disk-filler';

function run(command: string, args: readonly string[]): string | null {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.error !== undefined) return result.error.message;
  return result.status === 0 ? null : `${command} ${args.join(' ')} exited ${String(result.status)}: ${result.stderr.trim()}`;
}

/** Why a tmpfs cannot be mounted here (null: it can); checked once per test file, synchronously. */
export function tmpfsUnavailable(): string | null {
  if (process.platform !== 'linux') return `needs Linux (mount -t tmpfs), this is ${process.platform}`;
  if (process.getuid?.() !== 0) return 'needs root to mount a tmpfs (CI runs as root)';
  const probe = mkdtempSync(path.join(tmpdir(), 'arc-tmpfs-probe-'));
  const problem = run('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe]);
  if (problem === null) run('umount', [probe]);
  rmdirSync(probe);
  return problem === null ? null : `cannot mount a tmpfs: ${problem}`;
}

export function mountTmpfs(sizeMb: number): Tmpfs {
  const directory = mkdtempSync(path.join(tmpdir(), 'arc-tmpfs-'));
  const problem = run('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', directory]);
  if (problem !== null) throw new Error(problem);
  const filler = path.join(directory, FILLER_NAME);
  let mounted = true;
  return {
    directory,
    fill: async () => {
      const stats = await statfs(directory);
      const handle = await open(filler, 'a');
      const chunk = Buffer.alloc(FILL_CHUNK_BYTES, 0x5a);
      try {
        // Whole chunks up to the free space, then single bytes until the kernel says ENOSPC.
        for (let left = stats.bavail * stats.bsize; left >= FILL_CHUNK_BYTES; left -= FILL_CHUNK_BYTES) await handle.write(chunk);
        for (;;) await handle.write(chunk.subarray(0, 4096));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
      } finally {
        await handle.close();
      }
    },
    free: () => rm(filler, { force: true }),
    grow: (newSizeMb) => {
      const growProblem = run('mount', ['-o', `remount,size=${newSizeMb}m`, directory]);
      if (growProblem !== null) throw new Error(growProblem);
    },
    unmount: () => {
      if (!mounted) return;
      mounted = false;
      // Lazy: a server that failed to stop may still hold files open; the mount goes once it exits.
      const unmountProblem = run('umount', ['-l', directory]);
      if (unmountProblem !== null) throw new Error(unmountProblem);
      rmdirSync(directory);
    },
  };
}
