import type { QueryPool } from '@arc/query';
import type { MeasurementEvent } from '@arc/writer';
import type { QueryCache } from './query-cache.js';

/**
 * Keeps the query side in step with the writers' measurement events: new files make cached
 * answers of their measurement stale; a measurement's first file makes the query threads rescan
 * (views glob their files at every query, so later files of a known measurement need nothing);
 * buffered rows of a measurement with no file yet make it answer with its columns and no rows.
 *
 * Runs on the acceptor thread, so every event costs O(1) (a few map lookups) and a batch of events
 * invalidates the catalog once: a request of thousands of new measurements once cost a quadratic
 * amount of main-thread work here and stalled every request, /health included (issue 11).
 */
export class CatalogFollower {
  private readonly pool: QueryPool;
  private readonly cache: QueryCache;
  /** Database -> measurements with a file written by this process. */
  private readonly filed = new Map<string, Set<string>>();

  constructor(pool: QueryPool, cache: QueryCache) {
    this.pool = pool;
    this.cache = cache;
  }

  apply(events: readonly MeasurementEvent[]): void {
    let catalogChanged = false;
    for (const event of events) {
      const { database, measurement } = event;
      this.cache.invalidate(database, measurement);
      const filed = this.filed.get(database)?.has(measurement) === true;
      if (event.kind === 'schema') {
        if (!filed) this.pool.setPendingMeasurement(database, measurement, event.columns);
      } else if (!filed) {
        this.markFiled(database, measurement);
        this.pool.clearPendingMeasurement(database, measurement);
        catalogChanged = true;
      }
    }
    if (catalogChanged) this.pool.catalogGrew();
  }

  /** The database was deleted: its measurements are new again when written to. */
  forgetDatabase(database: string): void {
    this.filed.delete(database);
    this.cache.invalidateDatabase(database);
  }

  private markFiled(database: string, measurement: string): void {
    let measurements = this.filed.get(database);
    if (measurements === undefined) this.filed.set(database, (measurements = new Set()));
    measurements.add(measurement);
  }
}
