// Proves new tokens are 43 base64url characters that never start with '-', so `--token <token>`
// on a command line is never read as a missing value followed by an option.
import { parseArgs } from 'node:util';
import { describe, expect, it } from 'vitest';
import { generateTokenText } from '../src/token-hash.js';

describe('generateTokenText', () => {
  it('draws 43 base64url characters, never a leading dash (1 in 64 would have one)', () => {
    // 5,000 draws: without the rule, the chance that none starts with '-' is (63/64)^5000 < 1e-34.
    const tokens = Array.from({ length: 5000 }, generateTokenText);
    for (const token of tokens) expect(token).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{42}$/);
    expect(new Set(tokens).size).toBe(tokens.length);
    const token = tokens[0] as string;
    expect(parseArgs({ args: ['--token', token], options: { token: { type: 'string' } } }).values.token).toBe(token);
  });
});
