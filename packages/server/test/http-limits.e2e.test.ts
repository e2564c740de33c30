// Proves the HTTP limits get answers instead of silent closes: a request head over 4096 bytes gets
// 431 with a JSON body (one at the limit passes, even split across reads), and a body stalled or
// trickling below the minimum upload rate gets 408 before uWS would drop the connection, while a
// slow upload above that rate, longer than uWS's 10-s timeout, is taken whole; a body over its
// limit sent by a client that closes the connection (node:http without an agent) still gets its
// 413, and a Content-Length of 10 digits or more (which uWS refuses after the handler) gets 413.
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { TEST_TOKEN } from './support/arc-process.js';
import { useSharedArc } from './support/shared-arc.js';

const shared = useSharedArc({ ARC_WRITER_FLUSH_AGE_MS: '600000' });
const HEAD_BYTES_MAX = 4096;
const PROGRESS_BYTES = 160 * 1024;
/** uWS closes a slow upload 8 to 12 s after its last progress: a 408 must come before. */
const UWS_EARLIEST_CLOSE_MS = 8000;

/** A raw GET /health whose head is exactly `headBytes` long, written in one or two pieces. */
async function rawHead(headBytes: number, split: boolean): Promise<string> {
  const url = new URL(shared.arc.url);
  const start = 'GET /health HTTP/1.1\r\nHost: x\r\nX-Pad: ';
  const end = '\r\n\r\n';
  const head = start + 'a'.repeat(headBytes - start.length - end.length) + end;
  expect(head.length).toBe(headBytes);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString();
      if (received.includes('\r\n\r\n') && received.endsWith('}')) socket.end();
    });
    socket.on('close', () => resolve(received));
    socket.on('error', reject);
    if (!split) {
      socket.write(head);
      return;
    }
    // The second piece goes once the first was surely read on its own. uWS signals nothing for a
    // partial head (no answer, no event a client can see), so a short pause is the only way to
    // make the two pieces arrive in two reads.
    socket.write(head.slice(0, 100), () => setTimeout(() => socket.write(head.slice(100)), 50));
  });
}

interface Upload {
  readonly request: ClientRequest;
  readonly response: Promise<{ status: number; body: string; elapsedMs: number }>;
}

/** Starts a POST with a declared length; the caller writes the body (or not). */
function startUpload(path: string, contentLength: number): Upload {
  const url = new URL(shared.arc.url);
  const started = Date.now();
  const client = request({
    host: url.hostname,
    port: url.port,
    path,
    method: 'POST',
    headers: { 'Content-Length': String(contentLength), Authorization: `Bearer ${TEST_TOKEN}`, 'Content-Type': 'text/plain' },
  });
  const response = new Promise<{ status: number; body: string; elapsedMs: number }>((resolve, reject) => {
    client.on('error', reject);
    client.on('response', (answer: IncomingMessage) => {
      const elapsedMs = Date.now() - started;
      let body = '';
      answer.on('data', (chunk: Buffer) => (body += chunk.toString()));
      answer.on('end', () => resolve({ status: answer.statusCode ?? 0, body, elapsedMs }));
    });
  });
  return { request: client, response };
}

describe('request heads over the limit get 431', () => {
  it('answers 431 with a JSON error, on any route, and takes a head at the limit', async () => {
    const padded = { 'X-Pad': 'a'.repeat(5000) };
    const health = await shared.client.get('/health', padded);
    expect(health.status).toBe(431);
    expect(health.json()).toMatchObject({ code: 'ARC_HEADERS_TOO_LARGE', limit_bytes: HEAD_BYTES_MAX });
    const write = await shared.client.post('/write/v2/msgpack', 'x', { ...shared.client.authHeaders(), ...padded });
    expect(write.status).toBe(431);
    expect((write.json() as { error: unknown }).error).toMatch(/^Request line and headers take \d+ bytes; the limit is 4096 bytes$/);
    expect(await rawHead(HEAD_BYTES_MAX + 1, false)).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n[^]*"code":"ARC_HEADERS_TOO_LARGE"/);
    expect(await rawHead(HEAD_BYTES_MAX, false)).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(await rawHead(HEAD_BYTES_MAX, true)).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect((await shared.client.get('/health')).status).toBe(200);
  });

  it('quotes a long URL cut short in a 404 (the message is bounded, the head under the limit)', async () => {
    const path = `/${'u'.repeat(3000)}`;
    const answer = await shared.client.get(path);
    expect(answer.status).toBe(404);
    const error = answer.json() as { error: string; code: string };
    expect(error.code).toBe('ARC_NOT_FOUND');
    expect(error.error).toMatch(/^Not found: GET \/u+\.\.\.\(3016 bytes\)$/);
    expect(answer.text.length).toBeLessThan(2200);
  });
});

describe('uploads below the minimum rate get 408 before the connection is dropped', () => {
  it('answers 408 to a body that stalls, and to one that trickles', async () => {
    const stalled = startUpload('/api/v1/write?db=slow', 100_000);
    stalled.request.write(Buffer.alloc(1000, 0x20));
    // 16 KiB/s: a 160 KiB window takes 10 s, over the 6-s window uWS's count allows.
    const trickled = startUpload('/api/v1/write?db=slow', 1_000_000);
    const trickle = setInterval(() => trickled.request.write(Buffer.alloc(16 * 1024, 0x20)), 1000);
    try {
      for (const upload of [stalled, trickled]) {
        const answer = await upload.response;
        expect(answer.status).toBe(408);
        expect(JSON.parse(answer.body)).toMatchObject({ code: 'ARC_BODY_TOO_SLOW', progress_bytes: PROGRESS_BYTES, window_ms: 6000 });
        expect(answer.elapsedMs).toBeLessThan(UWS_EARLIEST_CLOSE_MS);
      }
    } finally {
      clearInterval(trickle);
      stalled.request.destroy();
      trickled.request.destroy();
    }
    expect((await shared.client.get('/health')).status).toBe(200);
  });

  it('takes a slow upload that keeps the rate, though it lasts longer than uWS timeout', async () => {
    const line = 'slow,host=a v=1i\n';
    const lines = Math.ceil((7 * PROGRESS_BYTES) / line.length);
    const body = Buffer.from(line.repeat(lines));
    const upload = startUpload('/api/v1/write?db=slow', body.byteLength);
    let sent = 0;
    // One window's worth every 2 s (80 KiB/s): about 14 s for the whole body.
    const pump = setInterval(() => {
      const end = Math.min(sent + PROGRESS_BYTES, body.byteLength);
      upload.request.write(body.subarray(sent, end));
      sent = end;
      if (sent === body.byteLength) {
        clearInterval(pump);
        upload.request.end();
      }
    }, 2000);
    try {
      const answer = await upload.response;
      expect(answer.status, answer.body).toBe(204);
      expect(answer.elapsedMs).toBeGreaterThan(12_000);
    } finally {
      clearInterval(pump);
    }
    expect((await shared.client.flush()).status).toBe(200);
    expect(await shared.client.rows('SELECT count(*) FROM slow', 'slow')).toEqual([[lines]]);
  });
});

/** A raw request head (no body sent); resolves with everything received until the server closes. */
function rawRequest(head: string): Promise<string> {
  const url = new URL(shared.arc.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => socket.write(`${head}\r\n\r\n`));
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
    socket.on('close', () => resolve(received));
    socket.on('error', reject);
  });
}

/** A POST through node:http with no agent (so `Connection: close`), the whole body written at once. */
function postClosing(path: string, body: Buffer): Promise<{ status: number; body: string }> {
  const url = new URL(shared.arc.url);
  return new Promise((resolve, reject) => {
    const client = request({ host: url.hostname, port: url.port, path, method: 'POST', agent: false, headers: { 'Content-Type': 'application/json', 'Content-Length': String(body.byteLength), Authorization: `Bearer ${TEST_TOKEN}` } });
    client.on('error', reject);
    client.on('response', (answer: IncomingMessage) => {
      let text = '';
      answer.on('data', (chunk: Buffer) => (text += chunk.toString()));
      answer.on('end', () => resolve({ status: answer.statusCode ?? 0, body: text }));
    });
    client.end(body);
  });
}

describe('bodies over the limit get 413 however the connection ends', () => {
  it('answers 413 to a client that closes after its request while the body is still arriving', async () => {
    // The query body limit (1 MiB) is the smallest; 4 MiB are still in flight when it is passed.
    const body = Buffer.alloc(4 * 1024 * 1024, 0x20);
    for (let attempt = 0; attempt < 5; attempt++) {
      const answer = await postClosing('/query', body);
      expect(answer.status, answer.body).toBe(413);
      expect(JSON.parse(answer.body)).toMatchObject({ code: 'ARC_PAYLOAD_TOO_LARGE' });
    }
    expect((await shared.client.get('/health')).status).toBe(200);
  });

  it('answers 413 with a JSON error to a Content-Length of 10 digits or more, before the close', async () => {
    for (const length of ['1000000000', String(10 * 1024 ** 3)]) {
      const received = await rawRequest(`POST /write/v2/msgpack HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TEST_TOKEN}\r\nContent-Length: ${length}`);
      expect(received).toMatch(/^HTTP\/1\.1 413 Payload Too Large\r\n/);
      const body = received.slice(received.indexOf('\r\n\r\n') + 4);
      expect(JSON.parse(body)).toMatchObject({ code: 'ARC_PAYLOAD_TOO_LARGE', content_length_max: 999_999_999 });
      expect(JSON.parse(body).error).toBe(`Content-Length has ${length.length} digits: a body over 999999999 bytes is over every body limit of this server`);
    }
    const padded = await rawRequest(`POST /write/v2/msgpack HTTP/1.1\r\nHost: x\r\nX-Pad: ${'a'.repeat(5000)}\r\nContent-Length: 1000000000`);
    expect(padded).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n[^]*"code":"ARC_HEADERS_TOO_LARGE"/);
    expect((await shared.client.get('/health')).status).toBe(200);
  });
});
