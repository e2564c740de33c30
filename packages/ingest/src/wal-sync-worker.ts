import assert from 'node:assert/strict';
import { workerData } from 'node:worker_threads';
import { type WalSyncMode } from '@arc/config';
import { Doorbell } from '@arc/ring';
import { runSyncThread } from '@arc/wal';

/** What the main thread hands a decoder's WAL sync thread at start. */
export interface WalSyncWorkerData {
  /** The decoder's sync channel (createSyncChannel). */
  readonly channel: SharedArrayBuffer;
  /** The decoder's doorbell: rung when a sync is done, so a sleeping decoder answers its group. */
  readonly decoderDoorbell: SharedArrayBuffer;
  readonly syncMode: WalSyncMode;
}

/**
 * A decoder's WAL sync thread: runs the fdatasync of each group the decoder hands it, so the
 * decoder decodes and writes the next requests meanwhile instead of waiting for the disk
 * (docs/benchmarks.md, "WAL on vs off"). It ends when the decoder closes its stream.
 */
function main(): void {
  const data = workerData as WalSyncWorkerData;
  assert.ok(data.syncMode !== 'async', 'the async mode never syncs');
  const doorbell = new Doorbell(data.decoderDoorbell);
  runSyncThread(data.channel, data.syncMode, () => doorbell.ring());
}

main();
