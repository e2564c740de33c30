// A store in a temporary directory with a Compactor over it, compaction's schedules off (rewrites
// and counts run whether compaction does or not): the setting of the rewrite and retention tests.
import path from 'node:path';
import type { CompactionConfig } from '@arc/config';
import { Storage } from '@arc/storage';
import { Compactor } from '../../src/index.js';
import { TEST_COMPACTION_CONFIG } from './compaction-config.js';
import { tempDirectory } from '../../../../test/support/temp-dir.js';

export interface RewriteStore {
  readonly root: string;
  readonly storage: Storage;
  readonly compactor: Compactor;
}

/** `prefix` names the temporary directory, removed after the test file; the caller closes the compactor. */
export async function openRewriteStore(prefix: string, config: Partial<CompactionConfig> = {}): Promise<RewriteStore> {
  // One level down: what is kept beside the root (the compactor's history and temp files, a test's
  // retention store) is in the temp directory too.
  const root = path.join(await tempDirectory(prefix), 'store');
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
