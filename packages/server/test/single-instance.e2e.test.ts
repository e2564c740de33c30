// Proves a data directory and a port each serve one Arc: a second `arc serve` on the same data
// directory, or on a port taken by Arc or by any other listener, exits 1 before it is ready with
// a message naming the holder (pid, host, start time) or the port, and the first one keeps serving.
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startArc, type ArcProcess } from './support/arc-process.js';

let first: ArcProcess;

/** The output of an `arc serve` expected to exit before ready; a server that starts is stopped and fails the test. */
async function startFailure(env: Record<string, string>, dataDir?: string): Promise<string> {
  const directory = dataDir ?? (await mkdtemp(path.join(tmpdir(), 'arc-it-')));
  try {
    const started = await startArc(env, directory).catch((error: unknown) => error as Error);
    if (!(started instanceof Error)) {
      await started.stop();
      throw new Error('a second server started');
    }
    return started.message;
  } finally {
    if (dataDir === undefined) await rm(directory, { recursive: true, force: true });
  }
}

beforeAll(async () => {
  first = await startArc();
});

afterAll(async () => {
  await first.stop();
  await first.cleanup();
});

describe('one server per data directory and per port', () => {
  it('refuses a second server on the same data directory, naming the holder', async () => {
    const output = await startFailure({}, first.dataDir);
    expect(output).toContain('exited with 1 before ready');
    expect(output).toContain('ARC_DATA_DIR_LOCKED');
    expect(output).toContain(`pid ${String(first.child.pid)} on host ${hostname()}, started 20`);
    expect((await fetch(`${first.url}/ready`)).status).toBe(200);
  });

  it("refuses a second server on Arc's port, naming the port", async () => {
    const port = new URL(first.url).port;
    const output = await startFailure({ ARC_PORT: port });
    expect(output).toContain('exited with 1 before ready');
    expect(output).toContain(`ARC_PORT_IN_USE`);
    expect(output).toContain(`127.0.0.1:${port}`);
    expect((await fetch(`${first.url}/ready`)).status).toBe(200);
  });

  it('refuses a port another program listens on', async () => {
    const port = await freePort();
    const other: Server = createServer();
    await new Promise<void>((resolve) => other.listen(port, '127.0.0.1', resolve));
    try {
      const output = await startFailure({ ARC_PORT: String(port) });
      expect(output).toContain('exited with 1 before ready');
      expect(output).toContain(`Cannot listen on 127.0.0.1:${String(port)}`);
    } finally {
      await new Promise((resolve) => other.close(resolve));
    }
  });
});
