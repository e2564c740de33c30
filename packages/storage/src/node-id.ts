import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { NODE_ID_PATTERN } from './layout.js';

/** Where a data directory keeps its node id (a file at the root: never a database directory). */
export const NODE_ID_FILE = '.arc-node-id';

/**
 * The node id of a local data directory: made once (random) and kept in NODE_ID_FILE, so it
 * stays the same across restarts and every thread of the process reads the same one. Written
 * whole to a file of this thread's own, then hard-linked into place (a link fails if the name
 * exists): of two threads racing to make it, the second reads the first's, never a half-written
 * file (a plain O_EXCL create let a second writer thread read it empty and fail its flush).
 */
export function localNodeIdSync(root: string): string {
  const file = path.join(root, NODE_ID_FILE);
  const existing = readNodeId(file);
  if (existing !== null) return existing;
  mkdirSync(root, { recursive: true });
  const staged = `${file}.${randomBytes(8).toString('hex')}.tmp`;
  writeFileSync(staged, `n${randomBytes(4).toString('hex')}\n`, { flag: 'wx' });
  try {
    linkSync(staged, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    rmSync(staged, { force: true });
  }
  const created = readNodeId(file);
  if (created === null) throw new Error(`${file} does not hold a node id (${NODE_ID_PATTERN.source})`);
  return created;
}

function readNodeId(file: string): string | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch {
    return null;
  }
  return NODE_ID_PATTERN.test(text) ? text : null;
}
