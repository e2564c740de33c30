// Proves that every `arc` command, run as the built CLI in a child process, answers --help with its
// usage and the exit codes (0 ok, 1 failure, 2 usage error), refuses a bad command line with exit
// 2 and one line on stderr, prints its version, and that `arc health` reports a server (a
// node:http server in the test playing /health and /ready) with the right exit code and --json.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CLI_ENTRY = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const VERSION = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the built CLI; asynchronous so the test's own HTTP server keeps answering meanwhile. */
async function arc(...args: string[]): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.ARC_CONFIG;
  const child = spawn(process.execPath, [CLI_ENTRY, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, stdout, stderr };
}

const COMMANDS = ['serve', 'token', 'compact', 'health', 'version'] as const;

describe('arc --help of every command', () => {
  it('lists every command in the top-level usage', async () => {
    const result = await arc('help');
    expect(result.code).toBe(0);
    for (const command of COMMANDS) expect(result.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    expect(result.stdout).toContain('Exit codes');
    expect((await arc('--help')).stdout).toBe(result.stdout);
  });

  it("is the text README's \"Command line\" section shows", async () => {
    const readme = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');
    const usage = (await arc('help')).stdout;
    expect(readme).toContain(`\n\`\`\`\n${usage}\`\`\`\n`);
  });

  it.each(COMMANDS)('arc %s --help: usage, options and exit codes on stdout, exit 0', async (command) => {
    const result = await arc(command, '--help');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.startsWith(`Usage: arc ${command}`)).toBe(true);
    expect(result.stdout).toMatch(/Exit codes \(the reason of a non-zero exit is one line on stderr\):\n {2}0 {2}\S.*\n {2}1 {2}\S.*\n {2}2 {2}usage error/);
    expect((await arc(command, '-h')).stdout).toBe(result.stdout);
  });

  it('arc serve --help names its own exit code 3', async () => {
    expect((await arc('serve', '--help')).stdout).toMatch(/^ {2}3 {2}a stop could not write every acknowledged row/m);
  });
});

describe('usage errors exit 2 with one line on stderr', () => {
  it.each([
    [['serve', '--bogus'], "arc serve: unknown option '--bogus' (see 'arc serve --help')"],
    [['serve', '--config'], "arc serve: option '--config' needs a value"],
    [['token', 'list', '--bogus'], "arc token: unknown option '--bogus' (see 'arc token --help')"],
    [['compact', '--tier', 'weekly'], "arc compact: Unknown compaction tier 'weekly'"],
    [['health', '--url', 'ftp://arc'], "arc health: option '--url' must be an http:// or https:// URL"],
    [['version', '--short'], "arc version: unknown option '--short'"],
  ])('arc %j', async (args, message) => {
    const result = await arc(...args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(result.stderr).toContain(message);
  });

  it('an unknown command exits 2 and shows the usage on stderr', async () => {
    const result = await arc('frobnicate');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^arc: unknown command 'frobnicate'\n\nUsage: arc <command>/);
  });
});

describe('arc --version', () => {
  it.each([['--version'], ['-V'], ['version']])('arc %s prints the version', async (flag) => {
    const result = await arc(flag);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`arc ${VERSION}\n`);
  });

  it('arc version --json', async () => {
    const result = await arc('version', '--json');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ name: 'arc', version: VERSION, node: process.version });
  });
});

describe('failures exit 1', () => {
  it('arc serve with a bad configuration value', async () => {
    const result = await arc('serve', '--config', '/nonexistent/arc.conf');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^arc: configuration error: /);
  });

  it('arc compact without a server to talk to', async () => {
    const result = await arc('compact', '--url', 'http://127.0.0.1:9', '--json');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('arc compact: cannot reach Arc at http://127.0.0.1:9');
  });
});

describe('arc health', () => {
  let server: Server;
  let url = '';
  let ready = false;
  const healthBody = { status: 'healthy', service: 'arc', version: VERSION, uptime: '1m2s' };

  beforeAll(async () => {
    server = createServer((request, response) => {
      const send = (status: number, body: unknown): void => void response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (request.url === '/health') send(200, healthBody);
      else if (request.url === '/ready') send(ready ? 200 : 503, ready ? { status: 'ready' } : { status: 'not_ready', reason: 'replaying the write-ahead log' });
      else send(404, { error: 'not found' });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
  });
  afterAll(async () => new Promise<void>((resolve) => server.close(() => resolve())));

  it('exits 0 on a healthy server, with one line naming the version and uptime', async () => {
    const result = await arc('health', '--url', url);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`healthy: ${url}/health answered 200, Arc ${VERSION}, up 1m2s\n`);
  });

  it("prints the server's answer with --json", async () => {
    const result = await arc('health', '--url', url, '--json');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(healthBody);
  });

  it('exits 1 while /ready answers 503, then 0 once it is ready', async () => {
    const notReady = await arc('health', '--url', url, '--ready');
    expect(notReady.code).toBe(1);
    expect(notReady.stderr).toBe(`not_ready: ${url}/ready answered 503, replaying the write-ahead log\n`);
    ready = true;
    expect((await arc('health', '--url', url, '--ready', '--json')).code).toBe(0);
  });

  it('exits 1 on an unreachable server, and says so in JSON', async () => {
    const result = await arc('health', '--url', 'http://127.0.0.1:9', '--json');
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ status: 'unreachable', url: 'http://127.0.0.1:9/health' });
  });
});
