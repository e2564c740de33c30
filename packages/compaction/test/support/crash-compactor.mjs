// Shared by the crash children (crash-child.mjs, delete-crash-child.mjs, cq-crash-child.mjs): the
// store under `root`, listed, and a compactor on it whose history and temp files sit beside it.
// `onStep` sees every job step (a child kills itself at the one its test names).
import path from 'node:path';
import { Storage } from '@arc/storage';
import { Compactor } from '@arc/compaction';

export async function openStoreAndCompactor(root, configJson, onStep) {
  const storage = await Storage.open({ root });
  await storage.loadAll();
  const compactor = Compactor.open({
    storage,
    config: JSON.parse(configJson),
    historyPath: path.join(root, '..', `${path.basename(root)}-history.db`),
    tempDirectory: path.join(root, '..', `${path.basename(root)}-tmp`),
    queriesEnded: () => Promise.resolve(),
    log: () => undefined,
    ...(onStep === undefined ? {} : { onStep }),
  });
  return { storage, compactor };
}

/** An onStep that ends the process with SIGKILL at `stopAt` (as kill -9 or a power cut would). */
export function killAt(stopAt) {
  return (step) => {
    if (step === stopAt) process.kill(process.pid, 'SIGKILL');
  };
}
