// Child process of cq-window-crash.test.ts: opens the store and runs one continuous-query window
// (Compactor.replaceWindow) over db.cpu into db.cpu_10m, killing itself with SIGKILL the
// `occurrence`-th time the window reaches the step named on the command line (as kill -9 or a
// power cut would leave it). Runs the built packages (dist).
import path from 'node:path';
import { Storage } from '@arc/storage';
import { Compactor } from '@arc/compaction';

const [root, stopAt, occurrence, configJson, requestJson] = process.argv.slice(2);
const storage = await Storage.open({ root });
await storage.loadAll();
const compactor = Compactor.open({
  storage,
  config: JSON.parse(configJson),
  historyPath: path.join(root, '..', `${path.basename(root)}-history.db`),
  tempDirectory: path.join(root, '..', `${path.basename(root)}-tmp`),
  queriesEnded: () => Promise.resolve(),
  log: () => undefined,
});
let seen = 0;
await compactor.replaceWindow(JSON.parse(requestJson), (step) => {
  if (step === stopAt && ++seen === Number(occurrence)) process.kill(process.pid, 'SIGKILL');
});
await compactor.close();
