import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { NODE_ID_PATTERN } from './layout.js';

/** Where a data directory keeps its node id (a file at the root: never a database directory). */
export const NODE_ID_FILE = '.arc-node-id';
/** Node ids are at most 32 characters (layout.ts): the host part leaves room for '-' and 6 hex digits. */
const HOST_PART_CHARS_MAX = 25;

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
  writeFileSync(staged, `${derivedNodeId(root)}\n`, { flag: 'wx' });
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

/**
 * A new data directory's node id: the host name (lower case, path-safe, shortened) and a hash of
 * the directory, so two nodes on one machine differ and a node's files say which host wrote them.
 */
function derivedNodeId(root: string): string {
  const host = hostname().toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, HOST_PART_CHARS_MAX);
  const directory = createHash('sha256').update(path.resolve(root)).digest('hex').slice(0, 6);
  return host === '' ? `n${directory}${randomBytes(2).toString('hex')}` : `${host}-${directory}`;
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
