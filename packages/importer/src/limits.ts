// Limits of the importer, with what each costs and why it is where it is.

/**
 * Rows per piece of an InfluxDB 1.x chunked answer (`chunk_size`). The driver asks for one chunk's
 * rows at a time anyway (LIMIT); this only bounds how much InfluxDB encodes before it sends, so a
 * large chunk streams in pieces instead of being held whole on the source server.
 */
export const INFLUX1_ANSWER_CHUNK_ROWS = 10_000;

/**
 * Bytes of one source answer the InfluxDB drivers accept. A page is one chunk's rows plus one
 * (LIMIT chunkRowsMax + 1), so its answer is a few times the chunk's line protocol; this caps
 * the memory of a source that answers far more than asked (a proxy, a misbehaving server).
 */
export const INFLUX_ANSWER_BYTES_MAX = 256 * 1024 * 1024;

/**
 * The first time window an InfluxDB 2.x page reads (ns). Flux's `group() |> sort() |> limit()`
 * reads and sorts the whole range before it limits, so a page covers a window, not the rest of the
 * range: the window doubles after a page it leaves short and halves after one it fills at once, so
 * it settles near one chunk's rows whatever the data's density.
 */
export const FLUX_WINDOW_NS_INITIAL = 3_600_000_000_000n;
