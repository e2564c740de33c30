// The built server answers /openapi.json, /docs and /redoc without a token, with pages that load
// only the server's own files, and headless Chromium (Debian `chromium`, from scripts/chromium.sh)
// renders both pages with the API's operations listed; skipped, saying why, without Chromium.
import { execFile, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { useSharedArc } from './support/shared-arc.js';

const shared = useSharedArc();
const execFileAsync = promisify(execFile);

const CHROMIUM_SCRIPT = fileURLToPath(new URL('../../../scripts/chromium.sh', import.meta.url));
/** Virtual time Chromium gives the page's scripts before the DOM is dumped (not wall time: it ends when the page is idle). */
const BROWSER_VIRTUAL_TIME_MS = 15_000;
const BROWSER_TIMEOUT_MS = 90_000;

/** ARC_TEST_CHROMIUM, else what `chromium.sh path` finds, else null with the reason. */
function chromiumPath(): { path: string | null; reason: string } {
  const configured = process.env.ARC_TEST_CHROMIUM;
  if (configured !== undefined && configured !== '') return { path: configured, reason: '' };
  const found = spawnSync('bash', [CHROMIUM_SCRIPT, 'path'], { encoding: 'utf8' });
  if (found.status === 0 && found.stdout.trim() !== '') return { path: found.stdout.trim(), reason: '' };
  return { path: null, reason: `no headless Chromium: ${found.stderr.trim() || 'scripts/chromium.sh path failed; install it with: bash scripts/chromium.sh install'}` };
}

const chromium = chromiumPath();
if (chromium.path === null) console.warn(`api-docs browser tests skipped: ${chromium.reason}`);

/**
 * The page's DOM once its scripts ran, as headless Chromium dumps it. The window is tall because
 * Swagger UI renders only the operations in view once it lists 150 tags and operations or more.
 */
async function renderedDom(url: string): Promise<string> {
  const browser = chromium.path;
  if (browser === null) throw new Error(chromium.reason);
  const { stdout } = await execFileAsync(
    browser,
    ['--headless', '--disable-gpu', '--no-sandbox', '--no-first-run', '--disable-extensions', '--window-size=1280,40000', `--virtual-time-budget=${String(BROWSER_VIRTUAL_TIME_MS)}`, '--dump-dom', url],
    { maxBuffer: 64 * 1024 * 1024, timeout: BROWSER_TIMEOUT_MS },
  );
  return stdout;
}

/** Every `src` and `href` of an HTML page. */
function references(html: string): string[] {
  return [...html.matchAll(/\b(?:src|href|spec-url)="([^"]*)"/g)].map((match) => match[1] ?? '');
}

describe('API documentation routes', () => {
  it('GET /openapi.json: the OpenAPI 3.1 document, without a token', async () => {
    const answer = await shared.client.get('/openapi.json');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('application/json');
    const document = answer.json() as { openapi: string; info: { version: string }; paths: Record<string, Record<string, { operationId: string }>> };
    expect(document.openapi).toBe('3.1.0');
    expect(document.paths['/write/v2/msgpack']?.post?.operationId).toBe('writeMsgpack');
    expect(document.paths['/auth/tokens/{id}']?.patch?.operationId).toBe('updateToken');
  });

  it('GET /docs and /redoc: HTML that loads only this server\'s files', async () => {
    for (const path of ['/docs', '/redoc']) {
      const page = await shared.client.get(path);
      expect(page.status, path).toBe(200);
      expect(page.headers.get('content-type'), path).toBe('text/html; charset=utf-8');
      const loaded = references(page.text);
      expect(loaded.length, path).toBeGreaterThan(0);
      expect(loaded.filter((reference) => !reference.startsWith('/') && !reference.startsWith('data:')), path).toEqual([]);
      for (const reference of loaded.filter((candidate) => candidate.startsWith('/'))) {
        expect((await shared.client.get(reference)).status, reference).toBe(200);
      }
    }
  });

  it('assets come with their content type, gzip when asked, and nothing else under /docs/assets/', async () => {
    const css = await shared.client.get('/docs/assets/swagger-ui.css', { 'Accept-Encoding': 'identity' });
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    const script = await fetch(`${shared.arc.url}/docs/assets/redoc.standalone.js`, { headers: { 'Accept-Encoding': 'gzip' } });
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    // fetch decodes gzip itself: the bytes it hands back are the file, which is several hundred KB.
    expect(script.headers.get('content-encoding')).toBe('gzip');
    expect((await script.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
    const missing = await shared.client.get('/docs/assets/..%2Fpackage.json');
    expect(missing.status).toBe(404);
    expect(missing.json()).toMatchObject({ code: 'ARC_NOT_FOUND' });
  });
});

describe.skipIf(chromium.path === null)('API documentation in headless Chromium', () => {
  it('Swagger UI at /docs lists the operations', { timeout: BROWSER_TIMEOUT_MS * 2 }, async () => {
    const dom = await renderedDom(`${shared.arc.url}/docs`);
    // Swagger UI gives each operation the element id `operations-<tag>-<operationId>`.
    for (const id of ['operations-write-writeMsgpack', 'operations-query-querySql', 'operations-auth-createToken', 'operations-health-health', 'operations-documentation-openapi']) {
      expect(dom, id).toContain(`id="${id}"`);
    }
    expect(dom).toContain('/api/v1/query/{measurement}/csv');
  });

  it('ReDoc at /redoc lists the operations', { timeout: BROWSER_TIMEOUT_MS * 2 }, async () => {
    const dom = await renderedDom(`${shared.arc.url}/redoc`);
    // ReDoc's menu has an item `tag/<tag>/operation/<operationId>` per operation.
    for (const item of ['write/operation/writeMsgpack', 'query/operation/querySql', 'auth/operation/createToken', 'databases/operation/deleteDatabase']) {
      expect(dom, item).toContain(`data-item-id="tag/${item}"`);
    }
  });
});
