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
  /** A delete of the same database or measurement is already running (409). */
  deleteInProgress: 'ARC_DELETE_IN_PROGRESS',
  /** The writers dropped a name's rows but storage could not remove all its files (500). */
  deleteFailed: 'ARC_DELETE_FAILED',
  /** A one-writer request refused after it was logged, whose cancel entry could not be written (500). */
  walCancelFailed: 'ARC_WAL_CANCEL_FAILED',
  /** A write waited ingest.wait_max_ms for a decoder ring or for write buffers to drain (503). */
  waitTimedOut: 'ARC_INGEST_WAIT_TIMEOUT',
  /** A write was still waiting for room when the server stopped (503; nothing of it was written). */
  stoppedWhileWaiting: 'ARC_INGEST_STOPPED_WAITING',
} as const);
export type IngestErrorCode = (typeof IngestErrorCode)[keyof typeof IngestErrorCode];
