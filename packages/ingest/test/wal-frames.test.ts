// Proves that a request frame carries a WAL replay position (stream, seq) between the database
// and the body without disturbing either, that ordinary frames carry none, and that precision
// codes (as WAL envelopes store them) map back to the same precision.
import { describe, expect, it } from 'vitest';
import { decodeRequestHeader, encodeRequestHeader, markExternalBody, PayloadFormat, precisionCode, precisionOfCode } from '../src/frames.js';

const options = { format: PayloadFormat.lineProtocol, database: 'métriques', nowUs: 1_700_000_000_123_456, precision: 'ms' } as const;
const body = new TextEncoder().encode('cpu v=1 1700000000000');

function frameOf(header: Uint8Array): Uint8Array {
  const frame = new Uint8Array(header.byteLength + body.byteLength);
  frame.set(header);
  frame.set(body, header.byteLength);
  return frame;
}

describe('request frames and WAL replay positions', () => {
  it('round-trips a replay position, with the database and body intact', () => {
    const frame = frameOf(encodeRequestHeader(7, false, options, { stream: 5, seq: 2 ** 40 + 3 }));
    const header = decodeRequestHeader(frame);
    expect(header).toMatchObject({ requestId: 7, format: PayloadFormat.lineProtocol, database: 'métriques', nowUs: options.nowUs, precision: 'ms', externalBody: false });
    expect(header.replay).toEqual({ stream: 5, seq: 2 ** 40 + 3 });
    expect(new TextDecoder().decode(frame.subarray(header.bodyOffset))).toBe('cpu v=1 1700000000000');
  });

  it('carries no position in an ordinary frame, and keeps it when the body goes external', () => {
    expect(decodeRequestHeader(frameOf(encodeRequestHeader(1, false, options))).replay).toBeNull();
    const external = encodeRequestHeader(2, false, options, { stream: 0, seq: 1 });
    markExternalBody(external);
    expect(decodeRequestHeader(external)).toMatchObject({ externalBody: true, replay: { stream: 0, seq: 1 }, bodyOffset: external.byteLength });
  });

  it('maps every precision to a code and back; an unknown code is null', () => {
    for (const precision of ['ns', 'us', 'ms', 's', 'm', 'h'] as const) expect(precisionOfCode(precisionCode(precision))).toBe(precision);
    expect(precisionOfCode(15)).toBeNull();
  });
});
