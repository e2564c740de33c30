// Child process of delete-crash.test.ts: opens the store and runs a row delete (RowDeleter: count
// thread, then Compactor.rewrite) of db.cpu with the WHERE clause given, and kills itself with
// SIGKILL the moment a rewrite job reaches the step named on the command line (as kill -9 or a
// power cut would leave it). Runs the built packages (dist).
import { RowDeleter } from '@arc/compaction';
import { killAt, openStoreAndCompactor } from './crash-compactor.mjs';

const [root, stopAt, configJson, where] = process.argv.slice(2);
const { storage, compactor } = await openStoreAndCompactor(root, configJson, killAt(stopAt));
const deleter = new RowDeleter({ storage, rewriter: compactor, flushWriters: () => Promise.resolve(null), confirmationThreshold: 10_000 });
await deleter.deleteRows({ database: 'db', measurement: 'cpu', where, dryRun: false, confirm: true });
await compactor.close();
