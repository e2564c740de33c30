import assert from 'node:assert/strict';
import type { ArcError } from '@arc/errors';
import { fnv1aOfString } from '@arc/columnar';
import { claimNamesSync, hasMeasurementDirectorySync, measurementDirectoryCountSync, releaseNamesSync } from '@arc/storage';
import { CENSUS_DATABASES_MAX, CENSUS_LOCK_WAIT_MS } from './limits.js';

/**
 * How many measurements each database has, shared by every writer thread (and the main thread,
 * which resets a deleted database), so `ingest.max_measurements_per_database` holds for the
 * database as a whole although each writer owns only a hash share of its measurements.
 *
 * One SharedArrayBuffer of int32 cells, guarded by one spin lock (taken only when a writer meets
 * a measurement new to it, never per row or per request):
 *
 *   cell 0                 lock: 0 free, 1 taken
 *   cell 1                 epoch: bumped when a database is forgotten (writers then forget which
 *                          measurements they counted, and look at the disk again)
 *   cell 2 + 3 * slot      database name hash, high 32 bits (never 0; 0: an empty slot)
 *   cell 3 + 3 * slot      database name hash, low 32 bits
 *   cell 4 + 3 * slot      measurements of the database; UNSEEDED until counted from its directory
 *
 * Databases are told apart by a 64-bit hash of their name: two of 10,000 names collide with
 * probability ~3e-12, and a collision only makes two databases share one count.
 */
const LOCK_CELL = 0;
const EPOCH_CELL = 1;
const FIRST_SLOT_CELL = 2;
const CELLS_PER_SLOT = 3;
const UNSEEDED = -1;
/** Open addressing at most half full: a lookup probes about two slots. */
const SLOT_COUNT = CENSUS_DATABASES_MAX * 2;

/** Refused: `count` is the database's count, null when the census has no room for the database. */
export type CensusVerdict = { readonly ok: true } | { readonly ok: false; readonly count: number | null };

/** A second FNV-1a offset basis: with the standard one, two independent 32-bit hashes of a name. */
const LOW_HASH_BASIS = 0x050c5d1f;

/** Two independent 32-bit FNV-1a hashes of the name (different offset bases); never both zero. */
function nameHash(name: string): [number, number] {
  return [fnv1aOfString(name) | 1, fnv1aOfString(name, LOW_HASH_BASIS)];
}

export class MeasurementCensus {
  readonly shared: SharedArrayBuffer;
  private readonly cells: Int32Array;
  private readonly parquetRoot: string;

  static create(parquetRoot: string): MeasurementCensus {
    return new MeasurementCensus(new SharedArrayBuffer((FIRST_SLOT_CELL + SLOT_COUNT * CELLS_PER_SLOT) * Int32Array.BYTES_PER_ELEMENT), parquetRoot);
  }

  constructor(shared: SharedArrayBuffer, parquetRoot: string) {
    this.shared = shared;
    this.cells = new Int32Array(shared);
    this.parquetRoot = parquetRoot;
    assert.equal(this.cells.length, FIRST_SLOT_CELL + SLOT_COUNT * CELLS_PER_SLOT, 'census buffer size');
  }

  /**
   * Counts `added` new measurements into `database` if it stays within `countMax` (or always, when
   * `force`: a WAL replay of rows already acknowledged). Refused: nothing is counted, and the
   * verdict has the database's count. The first call for a database counts its directory first.
   */
  reserve(database: string, added: number, countMax: number, force: boolean): CensusVerdict {
    assert.ok(Number.isInteger(added) && added > 0, 'a positive number of measurements');
    return this.locked(() => {
      const cell = this.countCell(database);
      if (cell === null) return { ok: false, count: null };
      if (this.cells[cell] === UNSEEDED) this.cells[cell] = measurementDirectoryCountSync(this.parquetRoot, database);
      const count = this.cells[cell] as number; // countCell answers a cell of the table
      if (!force && count + added > countMax) return { ok: false, count };
      this.cells[cell] = count + added;
      return { ok: true };
    });
  }

  /**
   * Claims measurement names new to the store under the census lock (storage's names rule:
   * claimNamesSync): the error when one equals an existing name but for case.
   */
  claim(database: string, measurements: readonly string[]): ArcError | null {
    return this.locked(() => claimNamesSync(this.parquetRoot, database, measurements));
  }

  /** Takes back the claim of an aborted request's names (their directories, while empty). */
  unclaim(database: string, measurements: readonly string[]): void {
    this.locked(() => releaseNamesSync(this.parquetRoot, database, measurements));
  }

  /** Whether the measurement has a directory (files from earlier runs): it is counted already. */
  isOnDisk(database: string, measurement: string): boolean {
    return hasMeasurementDirectorySync(this.parquetRoot, database, measurement);
  }

  /** Takes back a reservation whose request was aborted (another writer refused its share). */
  release(database: string, removed: number): void {
    this.locked(() => {
      const cell = this.countCell(database);
      if (cell === null || this.cells[cell] === UNSEEDED) return;
      this.cells[cell] = Math.max(0, (this.cells[cell] as number) - removed); // a cell of the table
    });
  }

  /** The database was deleted: it is counted from its directory again when next written to. */
  forget(database: string): void {
    this.locked(() => {
      const cell = this.countCell(database);
      if (cell !== null) this.cells[cell] = UNSEEDED;
      Atomics.add(this.cells, EPOCH_CELL, 1);
    });
  }

  /** Changes whenever a database was forgotten. */
  epoch(): number {
    return Atomics.load(this.cells, EPOCH_CELL);
  }

  /** The count cell of the database's slot (taking a free slot for it); null when the table is full. */
  private countCell(database: string): number | null {
    const [high, low] = nameHash(database);
    for (let probe = 0; probe < SLOT_COUNT; probe++) {
      const base = FIRST_SLOT_CELL + ((((high ^ low) >>> 0) + probe) % SLOT_COUNT) * CELLS_PER_SLOT;
      const slotHigh = this.cells[base];
      if (slotHigh === high && this.cells[base + 1] === low) return base + 2;
      if (slotHigh !== 0) continue;
      this.cells[base] = high;
      this.cells[base + 1] = low;
      this.cells[base + 2] = UNSEEDED;
      return base + 2;
    }
    return null;
  }

  private locked<T>(action: () => T): T {
    while (Atomics.compareExchange(this.cells, LOCK_CELL, 0, 1) !== 0) Atomics.wait(this.cells, LOCK_CELL, 1, CENSUS_LOCK_WAIT_MS);
    try {
      return action();
    } finally {
      Atomics.store(this.cells, LOCK_CELL, 0);
      Atomics.notify(this.cells, LOCK_CELL, 1);
    }
  }
}
