// Proves `arc delete` parses its options (required ones named, token from ARC_TOKEN), and, against
// a node:http server in the test playing POST /api/v1/delete, sends the request it was given,
// prints the answer (text or JSON) even when it comes later than fetch would wait, exits 0 on
// success, 1 on a refusal (naming --confirm when the threshold is passed) or a partial failure,
// and 2 on a bad command line; on a terminal it draws the delete's phase and files from the
// server's list of running deletes, finding its own by the X-Request-Id it sent.
import { describe, expect, it } from 'vitest';
import { waitUntil } from '../../../test/support/poll-until.js';
import { deleteCommand, deleteProgressLine, formatDeleteAnswer, parseDeleteArgs, type DeleteAnswer } from '../src/delete-command.js';
import { startFakeArc, type FakeArc } from './support/fake-arc.js';
import { fetchGivesUpOn, withShortFetchHeadersTimeout } from './support/fetch-headers-timeout.js';

const REQUIRED = ['--database', 'db', '--measurement', 'cpu', '--where', "host = 'a'"];

/** A fake Arc answering every request with `status` and `body`. */
function fakeArc(status: number, body: unknown): Promise<FakeArc> {
  return startFakeArc(() => ({ status, json: body }));
}

/** The delete requests the fake received: their headers and JSON bodies. */
function deletesSeen(arc: FakeArc): { headers: unknown; body: unknown }[] {
  return arc.requests.filter((request) => request.method === 'POST' && request.url === '/api/v1/delete').map((request) => ({ headers: request.headers, body: JSON.parse(request.body) as unknown }));
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
    expect(deletesSeen(arc)).toEqual([{ headers: expect.objectContaining({ authorization: 'Bearer env-token' }) as unknown, body: { database: 'db', measurement: 'cpu', where: "host = 'a'", dry_run: false, confirm: true } }]);
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

  it("exits 1 when a 2xx answer is not a delete's", async () => {
    const arc = await fakeArc(200, null);
    const { out, err, io: streams } = io();
    expect(await deleteCommand([...REQUIRED, '--url', arc.url], streams)).toBe(1);
    expect(out).toEqual([]);
    expect(err.join('')).toBe("arc delete: the server's answer is not a delete's JSON: is this an Arc server?\n");
  });

  it('exits 1 when the server cannot be reached, 2 on a bad command line', async () => {
    const closed = await fakeArc(200, answer);
    await closed.stop();
    const { err, io: streams } = io();
    expect(await deleteCommand([...REQUIRED, '--url', closed.url], streams)).toBe(1);
    expect(err.join('')).toBe(`arc delete: cannot reach Arc at ${closed.url} (ECONNREFUSED): is the server running? (--url)\n`);
    expect(await deleteCommand(['--database', 'db'], streams)).toBe(2);
  });

  it('reports a delete whose answer comes later than fetch waits for one (five minutes; shortened here)', async () => {
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const arc = await startFakeArc(async () => {
      await held;
      return { status: 200, json: answer };
    });
    const { out, err, io: streams } = io();
    await withShortFetchHeadersTimeout(async () => {
      const deleting = deleteCommand([...REQUIRED, '--url', arc.url], streams);
      await waitUntil('the delete reached the server', 10_000, () => arc.requests.length === 1);
      // A fetch sent after the delete gives up on the same held server: the delete has now waited
      // longer than fetch waits for an answer's head.
      await fetchGivesUpOn(`${arc.url}/api/v1/delete`);
      release();
      expect(await deleting).toBe(0);
    });
    expect(err.join('')).toBe('');
    expect(out.join('')).toBe('deleted 42 rows: 2 of 2 files rewritten in 1.5 s\n  a.parquet\n  b.parquet\n');
  });

  it('draws its phase and files on a terminal from GET /api/v1/delete/running, found by the request id it sent', async () => {
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let deleteRequestId: string | null = null;
    const arc = await startFakeArc(async (request) => {
      if (request.method === 'GET' && request.url === '/api/v1/delete/running') {
        // Another client's delete first: the command must pick its own.
        return { status: 200, json: { deletes: [{ request_id: 'someone-else', phase: 'counting', files_done: 1, files_total: 9 }, { request_id: deleteRequestId, phase: 'rewriting', files_done: 3, files_total: 8 }] } };
      }
      deleteRequestId = String(request.headers['x-request-id']);
      await held;
      return { status: 200, json: answer };
    });
    const { out, err, io: streams } = io();
    const deleting = deleteCommand([...REQUIRED, '--url', arc.url], { ...streams, stderrIsTTY: true });
    await waitUntil('the progress line shows the rewrite', 10_000, () => err.join('').includes('deleting: rewriting 3/8 files, '));
    release();
    expect(await deleting).toBe(0);
    expect(deleteRequestId).toMatch(/^arc-delete-[0-9a-f-]{36}$/);
    // Each line is drawn over the last (\r) and clears what the longer one before it left (ESC [K).
    const lines = err.join('').split('\u001b[K');
    expect(lines[0]).toBe('\rdeleting... 0 s');
    expect(lines.slice(1, -1).every((line) => /^\rdeleting: rewriting 3\/8 files, \d+ s$/.test(line))).toBe(true);
    expect(lines.at(-1)).toBe('\n');
    expect(out.join('')).toBe('deleted 42 rows: 2 of 2 files rewritten in 1.5 s\n  a.parquet\n  b.parquet\n');
  });

  it('spells the progress line of each phase', () => {
    expect(deleteProgressLine(false, 2400, null)).toBe('deleting... 2 s');
    expect(deleteProgressLine(true, 0, { request_id: 'r', phase: 'flushing', files_done: 0, files_total: 0 })).toBe('counting: flushing, 0 s');
    expect(deleteProgressLine(true, 61_000, { request_id: 'r', phase: 'counting', files_done: 40, files_total: 120 })).toBe('counting: counting 40/120 files, 61 s');
  });
});
