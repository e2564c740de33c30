// Proves `arc delete` parses its options (required ones named, token from ARC_TOKEN), and, against
// a node:http server in the test playing POST /api/v1/delete, sends the request it was given,
// prints the answer (text or JSON), exits 0 on success, 1 on a refusal (naming --confirm when the
// threshold is passed) or a partial failure, and 2 on a bad command line.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { deleteCommand, formatDeleteAnswer, parseDeleteArgs, type DeleteAnswer } from '../src/delete-command.js';

const REQUIRED = ['--database', 'db', '--measurement', 'cpu', '--where', "host = 'a'"];

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
});

interface Seen {
  readonly headers: IncomingMessage['headers'];
  readonly body: unknown;
}

/** A fake Arc answering every POST /api/v1/delete with `status` and `body`; records the requests. */
async function fakeArc(status: number, body: unknown): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      if (req.url === '/api/v1/delete' && req.method === 'POST') seen.push({ headers: req.headers, body: JSON.parse(text) as unknown });
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`, seen };
}

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdout: { write: (text: string) => out.push(text) }, stderr: { write: (text: string) => err.push(text) }, stderrIsTTY: false, env: { ARC_TOKEN: 'env-token' } } };
}

const answer: DeleteAnswer = { success: true, deleted_count: 42, affected_files: 2, rewritten_files: 2, execution_time_ms: 1500, dry_run: false, files_processed: ['a.parquet', 'b.parquet'] };

describe('parseDeleteArgs', () => {
  it('reads every option; the token comes from ARC_TOKEN unless --token is given', () => {
    expect(parseDeleteArgs([...REQUIRED, '--dry-run', '--confirm', '--json', '--url', 'http://arc:8000/'], { ARC_TOKEN: 't' })).toEqual({
      url: 'http://arc:8000',
      token: 't',
      database: 'db',
      measurement: 'cpu',
      where: "host = 'a'",
      dryRun: true,
      confirm: true,
      json: true,
      configPath: undefined,
    });
    expect(parseDeleteArgs([...REQUIRED, '--token', 'flag'], { ARC_TOKEN: 't' })).toMatchObject({ token: 'flag', dryRun: false, confirm: false });
  });

  it.each([
    [['--measurement', 'cpu', '--where', '1=1'], "option '--database' is required"],
    [['--database', 'db', '--where', '1=1'], "option '--measurement' is required"],
    [['--database', 'db', '--measurement', 'cpu'], "option '--where' is required"],
    [[...REQUIRED, '--force'], "unknown option '--force'"],
    [[...REQUIRED, 'extra'], 'Unexpected argument'],
  ])('refuses %j', (args, message) => {
    expect(() => parseDeleteArgs(args, {})).toThrow(message);
  });
});

describe('arc delete', () => {
  it('sends the request with the token and prints what was deleted', async () => {
    const arc = await fakeArc(200, answer);
    const { out, io: streams } = io();
    expect(await deleteCommand([...REQUIRED, '--url', arc.url, '--confirm'], streams)).toBe(0);
    expect(arc.seen).toEqual([{ headers: expect.objectContaining({ authorization: 'Bearer env-token' }) as unknown, body: { database: 'db', measurement: 'cpu', where: "host = 'a'", dry_run: false, confirm: true } }]);
    expect(out.join('')).toBe('deleted 42 rows: 2 of 2 files rewritten in 1.5 s\n  a.parquet\n  b.parquet\n');
  });

  it('prints JSON with --json and a dry run as such', async () => {
    const arc = await fakeArc(200, { ...answer, dry_run: true, rewritten_files: 0 });
    const { out, io: streams } = io();
    expect(await deleteCommand([...REQUIRED, '--url', arc.url, '--json', '--dry-run'], streams)).toBe(0);
    expect(JSON.parse(out.join(''))).toMatchObject({ deleted_count: 42, dry_run: true });
    expect(formatDeleteAnswer({ ...answer, dry_run: true })).toBe('dry run: 42 rows match in 2 files (nothing changed)\n  a.parquet\n  b.parquet\n');
  });

  it('exits 1 naming --confirm when the server asks for confirmation', async () => {
    const arc = await fakeArc(400, { error: 'Delete would affect 20000 rows (threshold: 10000). Set confirm=true to proceed.', code: 'ARC_DELETE_CONFIRM_REQUIRED' });
    const { err, io: streams } = io();
    expect(await deleteCommand([...REQUIRED, '--url', arc.url], streams)).toBe(1);
    expect(err.join('')).toBe('arc delete: the server answered 400: Delete would affect 20000 rows (threshold: 10000). Set confirm=true to proceed. (ARC_DELETE_CONFIRM_REQUIRED); pass --confirm\n');
  });

  it('exits 1 when some files failed (207), listing them', async () => {
    const arc = await fakeArc(207, { ...answer, success: false, failed_files: ['b.parquet'] });
    const { out, io: streams } = io();
    expect(await deleteCommand([...REQUIRED, '--url', arc.url], streams)).toBe(1);
    expect(out.join('')).toContain('failed: b.parquet');
  });

  it('exits 1 when the server cannot be reached, 2 on a bad command line', async () => {
    const closed = await fakeArc(200, answer);
    await new Promise((resolve) => servers.pop()?.close(resolve));
    const { err, io: streams } = io();
    expect(await deleteCommand([...REQUIRED, '--url', closed.url], streams)).toBe(1);
    expect(err.join('')).toBe(`arc delete: cannot reach Arc at ${closed.url} (ECONNREFUSED): is the server running? (--url)\n`);
    expect(await deleteCommand(['--database', 'db'], streams)).toBe(2);
  });
});
