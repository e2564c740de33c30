// Child process of compaction-crash.test.ts and rewrite-crash.test.ts: opens the store, runs the
// hourly tier (or, given a remove predicate, rewrites every file of db.cpu with it; given DROP,
// deletes them whole through Compactor.rewrite), and kills
// itself with SIGKILL the moment a job reaches the step named on the command line (a process
// that dies there, as kill -9 or a power cut would leave it). Runs the built packages (dist).
import path from 'node:path';
import { Storage } from '@arc/storage';
import { Compactor } from '@arc/compaction';

const [root, stopAt, configJson, removeWhere] = process.argv.slice(2);
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
if (removeWhere === undefined) {
  await compactor.trigger({ tier: 'hourly' });
  await compactor.idle();
} else {
  const files = storage.catalog.files('db', 'cpu').map((file) => file.key);
  await compactor.rewrite({ database: 'db', measurement: 'cpu', files, removeWhere: removeWhere === 'DROP' ? null : removeWhere });
}
await compactor.close();
