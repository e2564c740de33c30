// A store in a temporary directory with a Compactor over it, compaction's schedules off (rewrites
// and counts run whether compaction does or not): the setting of the rewrite and retention tests.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CompactionConfig } from '@arc/config';
import { Storage } from '@arc/storage';
import { Compactor } from '../../src/index.js';
import { TEST_COMPACTION_CONFIG } from './compaction-config.js';

export interface RewriteStore {
  readonly root: string;
  readonly storage: Storage;
  readonly compactor: Compactor;
}

/** `prefix` names the temporary directory; the caller closes the compactor. */
export async function openRewriteStore(prefix: string, config: Partial<CompactionConfig> = {}): Promise<RewriteStore> {
  const root = await mkdtemp(path.join(tmpdir(), prefix));
  const storage = await Storage.open({ root });
  const compactor = Compactor.open({
    storage,
    config: { ...TEST_COMPACTION_CONFIG, enabled: false, ...config },
    historyPath: path.join(root, '..', `${path.basename(root)}-history.db`),
    tempDirectory: path.join(root, '..', `${path.basename(root)}-tmp`),
    queriesEnded: () => Promise.resolve(),
    log: () => undefined,
  });
  return { root, storage, compactor };
}
