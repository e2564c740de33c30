/**
 * Worker threads run compiled JavaScript (Node 20 cannot run TypeScript). `../dist/` resolves to
 * the package's build output both from `src/` (tests running sources) and from `dist/` itself.
 */
export const WRITER_WORKER_URL = new URL('../dist/writer-worker.js', import.meta.url);
