import type { QueryPool } from '@arc/query';
import type { CatalogEvent, Storage } from '@arc/storage';
import type { MeasurementEvent } from '@arc/writer';
import type { QueryCache } from './query-cache.js';

/**
 * Keeps the storage catalog and the query side in step with the writers' measurement events:
 * published files go into the catalog (whose deltas reach the query threads, see QueryPool);
 * every catalog change makes cached answers of its measurements stale; buffered rows of a
 * measurement with no file yet make it answer with its columns and no rows.
 *
 * Runs on the acceptor thread, so every event costs O(files) with small constants, and a batch of
 * events becomes one catalog generation: a request of thousands of new measurements once cost a
 * quadratic amount of main-thread work here and stalled every request, /health included (issue 11).
 */
export class CatalogFollower {
  private readonly pool: QueryPool;
  private readonly cache: QueryCache;
  private readonly storage: Storage;

  constructor(pool: QueryPool, cache: QueryCache, storage: Storage) {
    this.pool = pool;
    this.cache = cache;
    this.storage = storage;
    storage.onChange((event) => this.invalidateCache(event));
  }

  apply(events: readonly MeasurementEvent[]): void {
    const published = [];
    for (const event of events) {
      const { database, measurement } = event;
      const filed = this.storage.catalog.hasMeasurement(database, measurement);
      if (event.kind === 'schema') {
        // Answers of a measurement with no file yet show its buffered columns: they changed.
        this.cache.invalidate(database, measurement);
        if (!filed) this.pool.setPendingMeasurement(database, measurement, event.columns);
        continue;
      }
      if (!filed) this.pool.clearPendingMeasurement(database, measurement);
      for (const file of event.files) published.push({ key: file.key, bytes: file.byteCount, columns: file.columns });
    }
    this.storage.filesPublished(published);
  }

  private invalidateCache(event: CatalogEvent): void {
    if (event.kind === 'snapshot') {
      this.cache.clear();
      return;
    }
    for (const change of event.delta.changes) {
      if (change.kind === 'drop-database') this.cache.invalidateDatabase(change.database);
      else if (change.kind === 'drop-measurement') this.cache.invalidate(change.database, change.measurement);
      else if (change.kind === 'add') for (const file of change.files) this.cache.invalidate(file.database, file.measurement);
      else if (change.kind === 'load') this.cache.invalidate(change.database, change.measurement);
      else if (change.kind === 'declare') for (const measurement of change.measurements) this.cache.invalidate(change.database, measurement);
      else for (const key of change.keys) this.invalidateKey(key);
    }
  }

  private invalidateKey(key: string): void {
    const [database = '', measurement = ''] = key.split('/', 2);
    this.cache.invalidate(database, measurement);
  }
}
