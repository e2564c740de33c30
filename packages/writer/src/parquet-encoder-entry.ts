// `@arc/writer/parquet-encoder`: the encoder on its own (benchmarks, fault tests), apart from the
// front door so that importing `@arc/writer` does not load DuckDB.
export { ParquetEncoder, ParquetCompression, hoursOf, parquetColumnsOf } from './parquet-encoder.js';
export type { ParquetEncoderOptions, EncodedHourFile } from './parquet-encoder.js';
