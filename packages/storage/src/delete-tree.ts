/**
 * Removes what storage holds of a database or of one measurement (Storage implements it). Callers
 * go through the writers first (ingest's IngestPipeline deletes), so no buffered row of the name
 * is flushed after this.
 */
export interface DataDeleter {
  /** Resolves once the files are gone; what it resolves to (Storage counts them) is not used here. */
  deleteDatabase(database: string): Promise<unknown>;
  deleteMeasurement(database: string, measurement: string): Promise<unknown>;
}
