/**
 * Node flags for the workers: the parent's, minus export conditions. Workers run compiled dist/
 * code, and a parent started with a custom condition (vitest's `arc-source`) would make them
 * resolve `@arc/*` packages to TypeScript sources that Node 20 cannot run.
 */
export function workerExecArgv(parent: readonly string[] = process.execArgv): string[] {
  const kept: string[] = [];
  for (let index = 0; index < parent.length; index++) {
    const flag = parent[index] as string; // index < parent.length
    if (flag === '--conditions' || flag === '-C') {
      index++;
      continue;
    }
    if (!flag.startsWith('--conditions=')) kept.push(flag);
  }
  return kept;
}
