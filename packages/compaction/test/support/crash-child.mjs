// Child process of compaction-crash.test.ts and rewrite-crash.test.ts: opens the store, runs the
// hourly tier (or, given a remove predicate, rewrites every file of db.cpu with it; given DROP,
// deletes them whole through Compactor.rewrite), and kills
// itself with SIGKILL the moment a job reaches the step named on the command line (a process
// that dies there, as kill -9 or a power cut would leave it). Runs the built packages (dist).
import { killAt, openStoreAndCompactor } from './crash-compactor.mjs';

const [root, stopAt, configJson, removeWhere] = process.argv.slice(2);
const { storage, compactor } = await openStoreAndCompactor(root, configJson, killAt(stopAt));
if (removeWhere === undefined) {
  await compactor.trigger({ tier: 'hourly' });
  await compactor.idle();
} else {
  const files = storage.catalog.files('db', 'cpu').map((file) => file.key);
  await compactor.rewrite({ database: 'db', measurement: 'cpu', files, removeWhere: removeWhere === 'DROP' ? null : removeWhere });
}
await compactor.close();
