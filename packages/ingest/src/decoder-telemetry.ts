import { defineTelemetry, VITAL_GAUGES } from '@arc/telemetry';

/**
 * What each decoder thread publishes in its telemetry block (one block per decoder, index =
 * decoder index): its vitals (decoders have no event loop: PolledVitals) and what it decoded.
 */
export const DECODER_TELEMETRY = defineTelemetry({
  counters: ['requestsDecoded', 'rowsDecoded'],
  gauges: [...VITAL_GAUGES],
});
