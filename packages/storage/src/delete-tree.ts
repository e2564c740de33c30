import { rm } from 'node:fs/promises';
import path from 'node:path';

/**
 * Removes what storage holds of a database or of one measurement. Callers go through the writers
 * first (ingest's IngestPipeline deletes), so no buffered row of the name is flushed after this.
 */
export interface DataDeleter {
  /** Resolves once the files are gone; what it resolves to (Storage counts them) is not used here. */
  deleteDatabase(database: string): Promise<unknown>;
  deleteMeasurement(database: string, measurement: string): Promise<unknown>;
}

/** The local layout: `<root>/<database>/<measurement>/...`; a missing directory is not an error. */
export class LocalTreeDeleter implements DataDeleter {
  private readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  async deleteDatabase(database: string): Promise<void> {
    await rm(path.join(this.root, database), { recursive: true, force: true });
  }

  async deleteMeasurement(database: string, measurement: string): Promise<void> {
    await rm(path.join(this.root, database, measurement), { recursive: true, force: true });
  }
}
