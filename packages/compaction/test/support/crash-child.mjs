// Child process of compaction-crash.test.ts: opens the store, runs the hourly tier, and kills
// itself with SIGKILL the moment a job reaches the step named on the command line (a process
// that dies there, as kill -9 or a power cut would leave it). Runs the built packages (dist).
import path from 'node:path';
import { Storage } from '@arc/storage';
import { Compactor } from '@arc/compaction';

const [root, stopAt, configJson] = process.argv.slice(2);
const storage = await Storage.open({ root });
await storage.loadAll();
const compactor = Compactor.open({
  storage,
  config: JSON.parse(configJson),
  historyPath: path.join(root, '..', `${path.basename(root)}-history.db`),
  tempDirectory: path.join(root, '..', `${path.basename(root)}-tmp`),
  queriesEnded: () => Promise.resolve(),
  log: () => undefined,
  onStep: (step) => {
    if (step === stopAt) process.kill(process.pid, 'SIGKILL');
  },
});
await compactor.trigger({ tier: 'hourly' });
await compactor.idle();
await compactor.close();
