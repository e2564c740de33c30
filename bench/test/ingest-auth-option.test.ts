// Proves that bench/ingest's --auth flag starts the spawned server with authentication off only
// when asked, and refuses combinations it cannot honour, by parsing command lines.
import { describe, expect, it } from 'vitest';
import { parseOptions } from '../ingest/ingest.mjs';

describe('ingest --auth', () => {
  it('defaults to on, with no extra server environment', () => {
    expect(parseOptions(['--spawn'])).toMatchObject({ auth: 'on', env: {} });
  });

  it('off passes auth.enabled = false to the spawned server', () => {
    expect(parseOptions(['--spawn', '--auth', 'off'])).toMatchObject({ auth: 'off', env: { ARC_AUTH_ENABLED: 'false' } });
  });

  it('refuses off without --spawn and values other than on and off', () => {
    expect(() => parseOptions(['--auth', 'off'])).toThrow('--auth off needs --spawn');
    expect(() => parseOptions(['--spawn', '--auth', 'maybe'])).toThrow('--auth must be on or off, got maybe');
  });
});
