// Proves a completion frame is bounded whatever error it carries: an error of any size (even one
// not made through ArcError) becomes one frame the completion ring accepts, keeping its kind,
// code and the start of its message; a normal error round-trips whole.
import { describe, expect, it } from 'vitest';
import { validateMeasurementName } from '@arc/columnar';
import { ErrorKind, type ArcErrorShape } from '@arc/errors';
import { SpscRing } from '@arc/ring';
import { COMPLETION_FRAME_BYTES_MAX, decodeCompletion, encodeCompletion } from '../src/frames.js';
import { COMPLETION_RING_BYTES } from '../src/limits.js';

function roundTrip(error: ArcErrorShape): { frame: Uint8Array; decoded: ArcErrorShape } {
  const frame = encodeCompletion({ requestId: 7, rowCount: 0, error });
  expect(frame.byteLength).toBeLessThanOrEqual(COMPLETION_FRAME_BYTES_MAX);
  const ring = SpscRing.create(COMPLETION_RING_BYTES);
  expect(ring.tryWrite([frame])).toBe(true);
  const decoded = decodeCompletion(frame);
  expect(decoded.requestId).toBe(7);
  expect(decoded.error).not.toBeNull();
  return { frame, decoded: decoded.error as ArcErrorShape };
}

describe('completion frames', () => {
  it('carries a normal error whole, details included', () => {
    const error: ArcErrorShape = { kind: ErrorKind.badRequest, code: 'ARC_LP_PARSE', message: "unable to parse 'x': bad", details: { line: 3 } };
    expect(roundTrip(error).decoded).toEqual(error);
  });

  it('fits the ring with the error of a 200 KiB measurement name', () => {
    const error = validateMeasurementName('x'.repeat(200 * 1024));
    expect(error).not.toBeNull();
    const { decoded } = roundTrip(error!.toShape());
    expect(decoded.code).toBe('ARC_BAD_MEASUREMENT_NAME');
    expect(decoded.message).toMatch(/\.\.\.\(204800 bytes\)' is longer than the limit of 128 bytes/);
  });

  it('cuts an error that was never bounded (1 MiB message of control characters, huge details) to kind, code and message start', () => {
    const message = `bad value '${'\u0001'.repeat(1024 * 1024)}'`;
    const error: ArcErrorShape = { kind: ErrorKind.badRequest, code: 'ARC_TEST', message, details: { column: 'c'.repeat(1024 * 1024) } };
    const { decoded } = roundTrip(error);
    expect(decoded.kind).toBe(ErrorKind.badRequest);
    expect(decoded.code).toBe('ARC_TEST');
    expect(decoded.details).toBeUndefined();
    expect(decoded.message.startsWith("bad value '\u0001")).toBe(true);
    expect(decoded.message).toMatch(/\.\.\.\(1048588 bytes\)$/);
  });

  it('keeps a success frame at its 12-byte header', () => {
    const frame = encodeCompletion({ requestId: 1, rowCount: 5, error: null });
    expect(frame.byteLength).toBe(12);
    expect(decodeCompletion(frame)).toEqual({ requestId: 1, rowCount: 5, error: null });
  });
});
