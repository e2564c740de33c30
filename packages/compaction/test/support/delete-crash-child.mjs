// Child process of delete-crash.test.ts: opens the store and runs a row delete (RowDeleter: count
// thread, then Compactor.rewrite) of db.cpu with the WHERE clause given, and kills itself with
// SIGKILL the moment a rewrite job reaches the step named on the command line (as kill -9 or a
// power cut would leave it). Runs the built packages (dist).
import path from 'node:path';
import { Storage } from '@arc/storage';
import { Compactor, RowDeleter } from '@arc/compaction';

const [root, stopAt, configJson, where] = process.argv.slice(2);
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
const deleter = new RowDeleter({ storage, rewriter: compactor, flushWriters: () => Promise.resolve(null), confirmationThreshold: 10_000 });
await deleter.deleteRows({ database: 'db', measurement: 'cpu', where, dryRun: false, confirm: true });
await compactor.close();
