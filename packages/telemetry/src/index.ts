export { defineTelemetry, TelemetryLayout } from './telemetry-layout.js';
export type { TelemetrySpec } from './telemetry-layout.js';
export { CounterCell, GaugeCell, HistogramCell, TelemetryBlock, ThreadMeter } from './telemetry-block.js';
export type { BlockOf, HistogramSnapshot, MeterOf } from './telemetry-block.js';
export { PolledVitals, startThreadVitals, VITAL_GAUGES } from './thread-vitals.js';
export { HISTOGRAM_BOUNDS_MAX, LAYOUT_SLOTS_MAX, THREAD_BLOCKS_MAX, VITALS_SAMPLE_MS } from './limits.js';
export { DUCKDB_MEMORY_SAMPLE_MS, DUCKDB_MEMORY_SQL } from './duckdb-memory.js';
