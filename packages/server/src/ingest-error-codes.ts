/**
 * Stable codes of the ingest threads' wiring (decoders, the commit with the writers, WAL replay).
 * A table of its own beside ServerErrorCode so that it moves with the ingest files when they
 * leave the server package.
 */
export const IngestErrorCode = Object.freeze({
  /** A decoder thread died while it held the request (500; the server stops). */
  decoderFailed: 'ARC_DECODER_FAILED',
  /** A writer thread died or did not answer, so its buffered rows could not be flushed. */
  writerFailed: 'ARC_WRITER_FAILED',
  /** A request with more distinct measurements than ingest.max_measurements_per_request. */
  tooManyMeasurements: 'ARC_TOO_MANY_MEASUREMENTS',
} as const);
export type IngestErrorCode = (typeof IngestErrorCode)[keyof typeof IngestErrorCode];
