import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { ArcError, ErrorKind } from '@arc/errors';
import { newResponseState, sendBytes, sendError } from './http-response.js';
import { openApiDocument } from './openapi/document.js';
import type { ServerContext } from './server-context.js';
import { ServerErrorCode } from './error-codes.js';

/**
 * The API description and its two viewers, public like /health (they show what the README shows,
 * never data; a browser cannot send a token to open a page):
 *   GET /openapi.json          OpenAPI 3.1, built from the zod schemas (openapi/document.ts)
 *   GET /docs                  Swagger UI (npm swagger-ui-dist)
 *   GET /redoc                 ReDoc (npm redoc, its standalone bundle)
 *   GET /docs/assets/:file     the scripts and styles those pages load
 * The pages name only this server's paths (no CDN, no validator badge), so they work offline.
 * Each file is read once, on its first request, and kept with its gzip form.
 */
export const OPENAPI_PATH = '/openapi.json';
export const SWAGGER_UI_PATH = '/docs';
export const REDOC_PATH = '/redoc';
const ASSET_PREFIX = '/docs/assets/';

const requireFromHere = createRequire(import.meta.url);
const packageDirectory = (name: string): string => path.dirname(requireFromHere.resolve(`${name}/package.json`));

/** Served files by name: where each comes from. Nothing else under ASSET_PREFIX is answered. */
const ASSET_FILES: ReadonlyMap<string, { readonly packageName: string; readonly file: string }> = new Map([
  ['swagger-ui.css', { packageName: 'swagger-ui-dist', file: 'swagger-ui.css' }],
  ['swagger-ui-bundle.js', { packageName: 'swagger-ui-dist', file: 'swagger-ui-bundle.js' }],
  ['redoc.standalone.js', { packageName: 'redoc', file: 'bundles/redoc.standalone.js' }],
]);

const CONTENT_TYPE_BY_EXTENSION: Readonly<Record<string, string>> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.html': 'text/html; charset=utf-8',
};

/**
 * `validatorUrl: null`: Swagger UI would otherwise send the description to an outside validator for
 * its badge. Authorization is not persisted: a token typed into "Authorize" would stay in the
 * browser's local storage.
 */
const SWAGGER_UI_HTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Arc API (Swagger UI)</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${ASSET_PREFIX}swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="${ASSET_PREFIX}swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({ url: '${OPENAPI_PATH}', dom_id: '#swagger-ui', deepLinking: true, validatorUrl: null, docExpansion: 'list', displayOperationId: true, persistAuthorization: false });
</script>
</body>
</html>
`;

const REDOC_HTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Arc API (ReDoc)</title>
<link rel="icon" href="data:,">
<meta name="viewport" content="width=device-width, initial-scale=1">
</head>
<body>
<redoc spec-url="${OPENAPI_PATH}"></redoc>
<script src="${ASSET_PREFIX}redoc.standalone.js"></script>
</body>
</html>
`;

interface ServedFile {
  readonly contentType: string;
  readonly raw: Uint8Array;
  readonly gzipped: Uint8Array;
}

const gzipAsync = promisify(gzip);

async function served(contentType: string, raw: Uint8Array): Promise<ServedFile> {
  return { contentType, raw, gzipped: await gzipAsync(raw) };
}

/** Files by path, each loaded once (a failed load is retried at the next request). */
class DocsFiles {
  readonly #loaded = new Map<string, Promise<ServedFile>>();

  get(key: string, load: () => Promise<ServedFile>): Promise<ServedFile> {
    let file = this.#loaded.get(key);
    if (file === undefined) {
      file = load();
      this.#loaded.set(key, file);
      file.catch(() => this.#loaded.delete(key));
    }
    return file;
  }
}

function loadAsset(name: string): Promise<ServedFile> | null {
  const asset = ASSET_FILES.get(name);
  if (asset === undefined) return null;
  const contentType = CONTENT_TYPE_BY_EXTENSION[path.extname(name)] ?? 'application/octet-stream';
  return readFile(path.join(packageDirectory(asset.packageName), asset.file)).then((bytes) => served(contentType, bytes));
}

function send(res: HttpResponse, req: HttpRequest, file: Promise<ServedFile>): void {
  const state = newResponseState(res);
  const acceptsGzip = /\bgzip\b/.test(req.getHeader('accept-encoding'));
  file.then(
    (loaded) => {
      if (acceptsGzip) sendBytes(res, state, loaded.contentType, loaded.gzipped, { 'Content-Encoding': 'gzip', Vary: 'Accept-Encoding' });
      else sendBytes(res, state, loaded.contentType, loaded.raw, { Vary: 'Accept-Encoding' });
    },
    (error: unknown) => {
      sendError(res, state, new ArcError(ErrorKind.internal, ServerErrorCode.internal, `API documentation file unreadable: ${error instanceof Error ? error.message : String(error)}`));
    },
  );
}

export function registerDocsRoutes(app: TemplatedApp, context: ServerContext): void {
  const files = new DocsFiles();
  const text = (contentType: string, build: () => string) => () => served(contentType, Buffer.from(build()));
  app.get(OPENAPI_PATH, (res, req) => send(res, req, files.get(OPENAPI_PATH, text('application/json', () => JSON.stringify(openApiDocument(context.version))))));
  app.get(SWAGGER_UI_PATH, (res, req) => send(res, req, files.get(SWAGGER_UI_PATH, text('text/html; charset=utf-8', () => SWAGGER_UI_HTML))));
  app.get(REDOC_PATH, (res, req) => send(res, req, files.get(REDOC_PATH, text('text/html; charset=utf-8', () => REDOC_HTML))));
  app.get(`${ASSET_PREFIX}:file`, (res, req) => {
    const name = req.getParameter(0);
    const file = ASSET_FILES.has(name) ? files.get(name, () => loadAsset(name) ?? Promise.reject(new Error('unknown asset'))) : null;
    if (file === null) {
      sendError(res, newResponseState(res), new ArcError(ErrorKind.notFound, ServerErrorCode.notFound, `Not found: GET ${ASSET_PREFIX}${name.slice(0, 64)}`));
      return;
    }
    send(res, req, file);
  });
}
