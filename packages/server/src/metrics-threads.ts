import { defineTelemetry, VITAL_GAUGES } from '@arc/telemetry';

/** The acceptor (main) thread's own vitals, in a block like every other thread's, so one series lists them all. */
export const MAIN_TELEMETRY = defineTelemetry({ counters: [], gauges: [...VITAL_GAUGES] });
