// Proves a log line stays bounded whatever its message carries: a 1 MiB message is cut with a
// size marker in both formats, and a short message is written as it is.
import { describe, expect, it } from 'vitest';
import { LOG_MESSAGE_CHARS_MAX } from '../src/limits.js';
import { createLogger } from '../src/log.js';

describe('log lines', () => {
  it.each(['text', 'json'] as const)('cuts a 1 MiB message in %s format', (format) => {
    const lines: string[] = [];
    const log = createLogger('info', format, (line) => lines.push(line));
    log.error(`bad name '${'x'.repeat(1024 * 1024)}'`);
    log.info('short');
    expect(lines).toHaveLength(2);
    expect(lines[0]!.length).toBeLessThan(LOG_MESSAGE_CHARS_MAX + 200);
    expect(lines[0]).toMatch(/x\.\.\.\(1048587 bytes\)/);
    expect(lines[1]).toMatch(/short/);
  });
});
