// Proves that bench/ingest's --wal flag starts the spawned server with the write-ahead log on in
// the sync mode asked for (and off by default), and refuses what it cannot honour.
import { describe, expect, it } from 'vitest';
import { parseOptions } from '../ingest/ingest.mjs';

describe('ingest --wal', () => {
  it('defaults to off, with no WAL environment', () => {
    const options = parseOptions(['--spawn']);
    expect(options?.wal).toBe('off');
    expect(options?.env).toEqual({});
  });

  it('passes wal.enabled and wal.sync_mode to the spawned server', () => {
    expect(parseOptions(['--spawn', '--wal', 'fdatasync'])?.env).toEqual({ ARC_WAL_ENABLED: 'true', ARC_WAL_SYNC_MODE: 'fdatasync' });
    expect(parseOptions(['--spawn', '--wal', 'async', '--auth', 'off'])?.env).toEqual({ ARC_AUTH_ENABLED: 'false', ARC_WAL_ENABLED: 'true', ARC_WAL_SYNC_MODE: 'async' });
  });

  it('refuses a mode it does not know, and --wal without --spawn', () => {
    expect(() => parseOptions(['--spawn', '--wal', 'sometimes'])).toThrow('--wal must be one of off, fdatasync, fsync, async, got sometimes');
    expect(() => parseOptions(['--wal', 'fsync'])).toThrow('--wal needs --spawn');
  });
});
