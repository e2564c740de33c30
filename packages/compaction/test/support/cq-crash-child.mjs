// Child process of cq-window-crash.test.ts: opens the store and runs one continuous-query window
// (Compactor.replaceWindow) over db.cpu into db.cpu_10m, killing itself with SIGKILL the
// `occurrence`-th time the window reaches the step named on the command line (as kill -9 or a
// power cut would leave it). Runs the built packages (dist).
import { openStoreAndCompactor } from './crash-compactor.mjs';

const [root, stopAt, occurrence, configJson, requestJson] = process.argv.slice(2);
const { compactor } = await openStoreAndCompactor(root, configJson);
let seen = 0;
await compactor.replaceWindow(JSON.parse(requestJson), (step) => {
  if (step === stopAt && ++seen === Number(occurrence)) process.kill(process.pid, 'SIGKILL');
});
await compactor.close();
