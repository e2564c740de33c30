import { parseArgs } from 'node:util';
import { ConfigError } from '@arc/config';
import { CommandUsageError, parseArgsErrorMessage, wantsHelp } from './command-text.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, exitCodesText } from './exit-codes.js';
import { HEALTH_REQUEST_TIMEOUT_MS } from './limits.js';
import { checkedServerUrl, serverUrlOf } from './server-url.js';

export const HEALTH_USAGE = `Usage: arc health [options]

Asks a running Arc server whether it is healthy (GET /health) or, with --ready, ready for traffic
(GET /ready: 503 while it replays its write-ahead log or cannot reach its storage). For container
health checks, service managers and scripts: no token needed.

Options:
  --url <url>            the server (default http://127.0.0.1:<server.port of arc.conf>)
  --ready                ask /ready instead of /health
  --json                 print the server's answer as JSON (or {"status":"unreachable",...})
  --config <arc.conf>    where to read server.port when --url is not given
  -h, --help             show this text

${exitCodesText('healthy (or ready)', 'not healthy (or not ready), or the server could not be reached')}`;

const OPTIONS = {
  url: { type: 'string' },
  ready: { type: 'boolean' },
  json: { type: 'boolean' },
  config: { type: 'string' },
} as const;

interface HealthOptions {
  readonly url: string;
  readonly path: '/health' | '/ready';
  readonly json: boolean;
}

function parseHealthArgs(args: readonly string[]): HealthOptions {
  let values;
  try {
    ({ values } = parseArgs({ args: [...args], options: OPTIONS, allowPositionals: false, strict: true }));
  } catch (error) {
    throw new CommandUsageError(parseArgsErrorMessage(error as Error & { code?: unknown }, OPTIONS));
  }
  const url = values.url === undefined ? null : checkedServerUrl(values.url);
  return { url: serverUrlOf(url, values.config), path: values.ready === true ? '/ready' : '/health', json: values.json === true };
}

/** The server's status answer: HTTP status and JSON body, or why it could not be had. */
type Probe = { readonly status: number; readonly body: Record<string, unknown> } | { readonly status: null; readonly error: string };

async function probe(url: string): Promise<Probe> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(HEALTH_REQUEST_TIMEOUT_MS) });
    const text = await response.text();
    let body: unknown = null;
    try {
      body = JSON.parse(text) as unknown;
    } catch {
      // Not Arc, or a proxy's error page: reported with the status below.
    }
    if (typeof body !== 'object' || body === null) return { status: null, error: `${String(response.status)} with a body that is not JSON: is this an Arc server?` };
    return { status: response.status, body: body as Record<string, unknown> };
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return { status: null, error: cause?.code ?? cause?.message ?? (error as Error).message };
  }
}

function textOf(options: HealthOptions, result: Probe): string {
  const where = `${options.url}${options.path}`;
  if (result.status === null) return `unreachable: ${where} (${result.error})`;
  const { status, version, uptime, reason } = result.body;
  const details = [typeof version === 'string' ? `Arc ${version}` : null, typeof uptime === 'string' ? `up ${uptime}` : null, typeof reason === 'string' ? reason : null];
  return `${String(status)}: ${where} answered ${String(result.status)}${details.some((item) => item !== null) ? `, ${details.filter((item) => item !== null).join(', ')}` : ''}`;
}

/** `arc health ...`: 0 when the server answers 200, 1 otherwise, 2 on a bad command line. */
export async function healthCommand(args: readonly string[], io: { stdout: { write(text: string): unknown }; stderr: { write(text: string): unknown } }): Promise<number> {
  if (wantsHelp(args)) {
    io.stdout.write(HEALTH_USAGE);
    return EXIT_OK;
  }
  let options: HealthOptions;
  try {
    options = parseHealthArgs(args);
  } catch (error) {
    if (error instanceof ConfigError) {
      io.stderr.write(`arc health: configuration error: ${error.message}\n`);
      return EXIT_FAILED;
    }
    if (!(error instanceof CommandUsageError)) throw error;
    io.stderr.write(`arc health: ${error.message} (see 'arc health --help')\n`);
    return EXIT_USAGE;
  }
  const result = await probe(`${options.url}${options.path}`);
  const ok = result.status === 200;
  if (options.json) io.stdout.write(`${JSON.stringify(result.status === null ? { status: 'unreachable', url: `${options.url}${options.path}`, error: result.error } : result.body)}\n`);
  else (ok ? io.stdout : io.stderr).write(`${textOf(options, result)}\n`);
  return ok ? EXIT_OK : EXIT_FAILED;
}
