import { defineTelemetry, VITAL_GAUGES } from '@arc/telemetry';

/**
 * What each decoder thread publishes in its telemetry block (one block per decoder, index =
 * decoder index): its vitals (decoders have no event loop: PolledVitals), what it decoded, and
 * the batches it packed into a buffer a writer gave back and the bytes of such buffers it keeps
 * (BatchBufferPool).
 */
export const DECODER_TELEMETRY = defineTelemetry({
  counters: ['requestsDecoded', 'rowsDecoded', 'batchBuffersReused'],
  gauges: [...VITAL_GAUGES, 'batchBufferPoolBytes'],
});
