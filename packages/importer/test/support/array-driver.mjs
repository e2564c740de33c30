// A source driver for tests (never in product code): reads the rows listed in the job's source, in
// time order, with a real cursor (the index of the next row), so a run opened again at a chunk's
// cursor yields exactly the rows after that chunk. Plain JavaScript so that a job's source thread
// can load it (source-thread.ts `driverModuleForTests`) as well as a test's own thread.
//
// Job source: { rows: [{ m: 'cpu', t: '<ns>', v: 1.5 }...] (time order), fail_at_chunk?: n,
// pause_at_chunk?: n }. fail_at_chunk: the n-th chunk (1-based, counted from this open) fails as a
// source would; pause_at_chunk: the n-th chunk waits until the run is aborted.

const encoder = new TextEncoder();

function checkJobSource(source) {
  if (source === null || typeof source !== 'object' || !Array.isArray(source.rows)) {
    throw Object.assign(new Error('rows: must be a list of rows'), { kind: 'bad_request', code: 'ARC_IMPORT_BAD_SETTINGS', details: { field: 'rows' } });
  }
  return { ...source };
}

function linesOf(rows) {
  return rows.map((row) => `${row.m} v=${String(row.v)} ${row.t}\n`).join('');
}

/** @type {import('../../src/source.js').SourceDriver} */
export const arrayDriver = {
  type: 'http-json',
  checkSettings: (settings) => ({ ...settings }),
  checkJobSource,
  test: async () => ({ ok: true, version: 'array', detail: 'in memory' }),
  open: async (connection, source, cursor, options) => {
    const rows = source.rows;
    const inRange = (row) => (options.startNs === null || BigInt(row.t) >= options.startNs) && (options.endNs === null || BigInt(row.t) < options.endNs);
    let next = cursor === null ? 0 : JSON.parse(cursor).next;
    let chunkNumber = 0;
    const total = rows.filter(inRange).length;
    return {
      next: async () => {
        chunkNumber += 1;
        if (source.fail_at_chunk === chunkNumber) throw new Error(`the test source refused chunk ${String(chunkNumber)}`);
        if (source.pause_at_chunk === chunkNumber) {
          await new Promise((resolve, reject) => options.signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true }));
        }
        while (next < rows.length && !inRange(rows[next])) next += 1;
        if (next >= rows.length) return null;
        const taken = [];
        while (next < rows.length && taken.length < options.chunkRowsMax) {
          if (inRange(rows[next])) taken.push(rows[next]);
          next += 1;
        }
        const done = rows.slice(0, next).filter(inRange).length;
        return {
          body: encoder.encode(linesOf(taken)),
          rowCount: taken.length,
          minTimeNs: BigInt(taken[0].t),
          maxTimeNs: BigInt(taken[taken.length - 1].t),
          measurements: [...new Set(taken.map((row) => row.m))],
          cursor: JSON.stringify({ next }),
          sourceBytes: JSON.stringify(taken).length,
          progress: total === 0 ? null : done / total,
        };
      },
      close: async () => {},
    };
  },
};

export default arrayDriver;
