import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseSegmentName } from './segment-names.js';

/** A file of the WAL directory as `GET /api/v1/wal/files` reports it. */
export interface WalFile {
  readonly name: string;
  readonly kind: 'segment' | 'flush_journal';
  readonly stream: number | null;
  readonly firstSeq: number | null;
  readonly bytes: number;
  readonly modified: string;
}

export interface WalFiles {
  readonly files: readonly WalFile[];
  readonly totalBytes: number;
}

/**
 * The WAL's segments and flush journals with their sizes, listed asynchronously (the HTTP route
 * runs on the acceptor thread, which must not wait on the disk). Files deleted between the
 * listing and their stat are left out.
 */
export async function listWalFiles(directory: string): Promise<WalFiles> {
  let names: string[] = [];
  try {
    names = (await readdir(directory)).sort();
  } catch {
    // No directory yet (WAL off, never on): no files.
  }
  const candidates = names.filter((name) => parseSegmentName(directory, name) !== null || name.endsWith('.journal'));
  const stats = await Promise.all(candidates.map((name) => stat(path.join(directory, name)).catch(() => null)));
  const files: WalFile[] = [];
  let totalBytes = 0;
  for (const [index, name] of candidates.entries()) {
    const info = stats[index];
    if (info === null || info === undefined) continue;
    const segment = parseSegmentName(directory, name);
    totalBytes += info.size;
    files.push({ name, kind: segment === null ? 'flush_journal' : 'segment', stream: segment?.stream ?? null, firstSeq: segment?.firstSeq ?? null, bytes: info.size, modified: info.mtime.toISOString() });
  }
  return { files, totalBytes };
}
