export { IngestPipeline } from './ingest-pipeline.js';
export type { CompletionHandler, ShutdownReport, SubmitOutcome } from './ingest-pipeline.js';
export { PayloadFormat, precisionOfCode } from './frames.js';
export type { Completion, RequestOptions } from './frames.js';
export { RequestDecoder } from './request-decoder.js';
export { emptyRecoveryReport, envelopeOptions, prepareWal, replayWal } from './wal-recovery.js';
export type { WalRecoveryReport } from './wal-recovery.js';
export { REPLAY_RETRY_DELAY_MS } from './limits.js';
export type { Logger } from './logger.js';
