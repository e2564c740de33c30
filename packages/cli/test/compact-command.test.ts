// Proves `arc compact` parses its options (token from ARC_TOKEN, bad tier, names and URLs refused
// with a message), formats candidates, progress and summaries, and, against a node:http server in
// the test playing Arc's compaction endpoints, triggers, polls the queue until its jobs are done,
// reads their outcomes from the history and exits 1 when one failed.
import { describe, expect, it } from 'vitest';
import type { CompactionCandidate, CompactionJob } from '@arc/compaction';
import { compactionJob } from '../../compaction/test/support/compaction-job.js';
import {
  compactCommand,
  formatCandidates,
  formatSummary,
  jobLine,
  parseCompactArgs,
  summarize,
  type CompactIo,
} from '../src/compact-command.js';
import { requestLine, startFakeArc, type FakeAnswer, type FakeArc, type ReceivedRequest } from './support/fake-arc.js';


const job = (id: string, state: CompactionJob['state'], overrides: Partial<CompactionJob> = {}): CompactionJob =>
  compactionJob(id, { state, trigger: 'manual', inputBytes: 10 * 1024 * 1024, ...overrides });

const done = (id: string, inputRows: number, outputRows: number): CompactionJob =>
  job(id, 'succeeded', { inputRows, outputRows, outputFiles: 1, outputBytes: 2 * 1024 * 1024, durationMs: 2500 });
const failed = (id: string): CompactionJob => job(id, 'failed', { durationMs: 100, error: 'IO Error: No space left on device' });

describe('parseCompactArgs', () => {
  it('reads every option, and the token from ARC_TOKEN unless --token is given', () => {
    const args = ['--url', 'http://arc.local:9000/', '--database', 'metrics', '--measurement', 'cpu', '--tier', 'live', '--dry-run', '--json'];
    expect(parseCompactArgs(args, { ARC_TOKEN: 'from-env' })).toEqual({
      url: 'http://arc.local:9000',
      token: 'from-env',
      scope: { database: 'metrics', measurement: 'cpu', tier: 'live' },
      dryRun: true,
      json: true,
      configPath: undefined,
    });
    expect(parseCompactArgs(['--token', 'flag'], { ARC_TOKEN: 'from-env' })).toMatchObject({ token: 'flag', url: null, scope: {}, dryRun: false, json: false });
    expect(parseCompactArgs([], {})).toMatchObject({ token: null });
  });

  it.each([
    [['--tier', 'weekly'], "Unknown compaction tier 'weekly': must be one of live, hourly, daily"],
    [['--database', 'no/slash'], "Invalid database name 'no/slash'"],
    [['--measurement', ''], 'Invalid measurement name'],
    [['--url', 'ftp://arc'], "option '--url' must be an http:// or https:// URL, got 'ftp://arc'"],
    [['--url', 'not a url'], "option '--url' must be an http:// or https:// URL"],
    [['--force'], "unknown option '--force'"],
    [['--tier'], "option '--tier' needs a value"],
    [['hourly'], 'Unexpected argument'],
  ])('refuses %j', (args, message) => {
    expect(() => parseCompactArgs(args, {})).toThrow(message);
  });
});

describe('output', () => {
  it('formats candidates and job lines', () => {
    const candidates: CompactionCandidate[] = [
      { database: 'metrics', measurement: 'cpu', tier: 'live', partition: '2026/12/05/09', files: 20, bytes: 2048 },
      { database: 'metrics', measurement: 'memory', tier: 'daily', partition: '2026/12/03', files: 24, bytes: 1024 * 1024 },
    ];
    expect(formatCandidates(candidates)).toBe(
      [
        'DATABASE  MEASUREMENT  TIER   PARTITION      FILES  SIZE',
        'metrics   cpu          live   2026/12/05/09  20     2.0 KiB',
        'metrics   memory       daily  2026/12/03     24     1.0 MiB',
        '2 candidates: 44 files, 1.0 MiB',
        '',
      ].join('\n'),
    );
    expect(formatCandidates([])).toMatch(/^nothing to compact/);
    expect(jobLine(done('c-1', 1000, 900))).toBe('c-1 metrics.cpu hourly 2026/12/05/08: succeeded, files 10 -> 1, 10.0 MiB -> 2.0 MiB, rows 1000 -> 900, 2.5 s');
    expect(jobLine(failed('c-2'))).toBe('c-2 metrics.cpu hourly 2026/12/05/08: failed, 0.1 s: IO Error: No space left on device');
  });

  it('sums succeeded jobs; duplicates are rows in - rows out where both are known', () => {
    const summary = summarize([done('c-1', 1000, 900), done('c-2', 50, 50), failed('c-3'), job('c-4', 'succeeded', { inputRows: 7, outputFiles: 1, outputBytes: 10 })], 1);
    expect(summary).toEqual({
      jobs: 5,
      succeeded: 3,
      failed: 1,
      unknown: 1,
      filesIn: 30,
      filesOut: 3,
      bytesIn: 30 * 1024 * 1024,
      bytesOut: 4 * 1024 * 1024 + 10,
      rowsIn: 1050,
      rowsOut: 950,
      duplicatesRemoved: 100,
    });
    expect(formatSummary(summary)).toBe(
      ['5 jobs: 3 succeeded, 1 failed, 1 of unknown outcome', 'files 30 -> 3', 'bytes 30.0 MiB -> 4.0 MiB', 'rows  1050 -> 950 (100 duplicates removed)', ''].join('\n'),
    );
  });
});

/** Arc's compaction endpoints as a script: each GET of the queue moves the jobs one step on. */
class CompactionScript {
  /** The queue as each poll sees it; the last one repeats. */
  queue: CompactionJob[][] = [];
  history: CompactionJob[] = [];
  triggered: CompactionJob[] = [];
  triggerAnswer: FakeAnswer | null = null;
  #server: FakeArc | null = null;
  #polls = 0;

  async start(): Promise<string> {
    this.#server = await startFakeArc((request) => this.#answer(request));
    return this.#server.url;
  }

  /** The requests received, as `METHOD /path?query body`. */
  get requests(): string[] {
    return this.#server?.requests.map(requestLine) ?? [];
  }

  get authorizations(): Set<string> {
    return new Set(this.#server?.requests.map((request) => request.headers.authorization ?? ''));
  }

  #answer(request: ReceivedRequest): FakeAnswer {
    const path = request.url.split('?')[0];
    if (path === '/api/compaction/trigger') return this.triggerAnswer ?? { status: 202, json: { jobs: this.triggered } };
    if (path === '/api/compaction/jobs') return { status: 200, json: { jobs: this.queue[Math.min(this.#polls++, this.queue.length - 1)] ?? [] } };
    if (path === '/api/compaction/history') return { status: 200, json: { jobs: this.history } };
    if (path === '/api/compaction/candidates') return { status: 200, json: { candidates: [{ database: 'metrics', measurement: 'cpu', tier: 'live', partition: '2026/12/05/09', files: 20, bytes: 2048 }] } };
    return { status: 404, json: { error: 'not found', code: 'ARC_NOT_FOUND' } };
  }
}

interface Captured extends CompactIo {
  readonly out: string[];
  readonly err: string[];
}

function capture(stderrIsTTY: boolean): Captured {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: { write: (text: string) => out.push(text) }, stderr: { write: (text: string) => err.push(text) }, stderrIsTTY, env: { ARC_TOKEN: 'secret-token' }, pollIntervalMs: 5 };
}

let arc: CompactionScript;

/** Three jobs: c-a ends at the first poll, c-b at the third (failed), c-c at the fourth. */
function playThreeJobs(fake: CompactionScript): void {
  fake.triggered = [job('c-a', 'queued'), job('c-b', 'queued'), job('c-c', 'queued')];
  fake.queue = [
    [job('c-b', 'running'), job('c-c', 'queued'), job('c-other', 'running')],
    [job('c-b', 'running'), job('c-c', 'queued')],
    [job('c-c', 'running')],
    [],
  ];
  // Older jobs of the history, and one not ours, must not be taken for ours.
  fake.history = [done('c-c', 300, 300), failed('c-b'), done('c-other', 1, 1), done('c-a', 1000, 900), done('c-old', 5, 5)];
}

describe('arc compact against a server', () => {
  it('triggers, polls until its jobs are done, prints a line per job and the summary, and exits 1 on a failure', async () => {
    arc = new CompactionScript();
    const url = await arc.start();
    playThreeJobs(arc);
    const io = capture(false);
    const code = await compactCommand(['--url', url, '--database', 'metrics', '--tier', 'hourly'], io);
    expect(code).toBe(1);
    expect(arc.requests[0]).toBe('POST /api/compaction/trigger {"database":"metrics","tier":"hourly"}');
    expect(arc.requests.filter((request) => request.startsWith('GET /api/compaction/jobs'))).toHaveLength(4);
    expect(arc.requests).toContain(`GET /api/compaction/history?database=metrics&limit=1000`);
    expect([...arc.authorizations]).toEqual(['Bearer secret-token']);
    // One line per job as it ends, in the order they ended.
    expect(io.err.join('').split('\n').filter(Boolean).map((line) => line.split(' ')[0])).toEqual(['c-a', 'c-b', 'c-c']);
    const out = io.out.join('');
    expect(out).toContain('3 jobs: 2 succeeded, 1 failed\nfiles 20 -> 2\n');
    expect(out).toContain('rows  1300 -> 1200 (100 duplicates removed)');
    expect(out).toContain('failed: c-b metrics.cpu hourly 2026/12/05/08: failed, 0.1 s: IO Error: No space left on device');
  });

  it('redraws a progress bar on a terminal, and prints JSON with --json', async () => {
    arc = new CompactionScript();
    const url = await arc.start();
    playThreeJobs(arc);
    arc.history = arc.history.map((entry) => (entry.id === 'c-b' ? done('c-b', 10, 10) : entry));
    const io = capture(true);
    expect(await compactCommand(['--url', url, '--json'], io)).toBe(0);
    expect(io.err).toEqual(['\r[..........] 0/3 jobs', '\r[###.......] 1/3 jobs', '\r[######....] 2/3 jobs', '\r[##########] 3/3 jobs', '\n']);
    const printed = JSON.parse(io.out.join('')) as { jobs: CompactionJob[]; unknown: string[]; summary: { succeeded: number; duplicatesRemoved: number } };
    expect(printed.jobs.map((entry) => entry.id)).toEqual(['c-a', 'c-b', 'c-c']);
    expect(printed.unknown).toEqual([]);
    expect(printed.summary).toMatchObject({ succeeded: 3, duplicatesRemoved: 100 });
  });

  it('lists candidates with --dry-run and triggers nothing', async () => {
    arc = new CompactionScript();
    const url = await arc.start();
    const io = capture(false);
    expect(await compactCommand(['--url', url, '--dry-run', '--measurement', 'cpu', '--tier', 'live'], io)).toBe(0);
    expect(arc.requests).toEqual(['GET /api/compaction/candidates?measurement=cpu&tier=live']);
    expect(io.out.join('')).toContain('metrics   cpu          live  2026/12/05/09  20     2.0 KiB');
  });

  it('says so and exits 0 when there is nothing to compact', async () => {
    arc = new CompactionScript();
    const url = await arc.start();
    const io = capture(false);
    expect(await compactCommand(['--url', url], io)).toBe(0);
    expect(io.out.join('')).toMatch(/^nothing to compact/);
    expect(arc.requests).toEqual(['POST /api/compaction/trigger {}']);
  });

  it("reports the server's refusal on stderr with its code, and exits 1", async () => {
    arc = new CompactionScript();
    const url = await arc.start();
    arc.triggerAnswer = { status: 409, json: { error: 'Compaction is off (compaction.enabled = false in arc.conf)', code: 'ARC_COMPACTION_DISABLED' } };
    const io = capture(false);
    expect(await compactCommand(['--url', url], io)).toBe(1);
    expect(io.err.join('')).toBe('arc compact: POST /api/compaction/trigger answered 409: Compaction is off (compaction.enabled = false in arc.conf) (ARC_COMPACTION_DISABLED)\n');
  });
});
