// Proves what the logger writes: bounded messages in every output, the output `auto` picks for a
// terminal and for anything else, structured fields, levels, and secrets redacted from messages
// and fields, by capturing the lines a real pino-backed logger writes.
import { describe, expect, it } from 'vitest';
import { LOG_MESSAGE_CHARS_MAX } from '../src/limits.js';
import { createLogger, logOutputFor } from '../src/log.js';
import { REDACTED, redactText } from '../src/log-redact.js';

const ANSI_ESCAPE = '\u001b[';

function capture(level: 'debug' | 'info' | 'warn' | 'error', format: 'auto' | 'text' | 'json', isTty = false) {
  const lines: string[] = [];
  const log = createLogger(level, format, (line) => lines.push(line), { isTty, ringLines: 100 });
  return { log, lines };
}

describe('log lines', () => {
  it.each(['text', 'json'] as const)('cuts a 1 MiB message in %s format', (format) => {
    const { log, lines } = capture('info', format);
    log.error(`bad name '${'x'.repeat(1024 * 1024)}'`);
    log.info('short');
    expect(lines).toHaveLength(2);
    expect(lines[0]!.length).toBeLessThan(LOG_MESSAGE_CHARS_MAX + 200);
    expect(lines[0]).toMatch(/x\.\.\.\(1048587 bytes\)/);
    expect(lines[1]).toMatch(/short/);
  });

  it('writes one JSON object per line with level, time, message and fields', () => {
    const { log, lines } = capture('info', 'json');
    log.warn('slow query', { request_id: 'r-1', rows: 3, cache: null });
    expect(lines).toHaveLength(1);
    expect(lines[0]!.endsWith('\n')).toBe(true);
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(line).toEqual({ level: 'warn', time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/) as unknown, msg: 'slow query', request_id: 'r-1', rows: 3, cache: null });
  });

  it('drops lines below the configured level', () => {
    const { log, lines } = capture('warn', 'json');
    log.debug('d');
    log.info('i');
    log.warn('w');
    log.error('e');
    expect(lines.map((line) => (JSON.parse(line) as { msg: string }).msg)).toEqual(['w', 'e']);
    expect(log.isLevelEnabled('info')).toBe(false);
    expect(log.isLevelEnabled('error')).toBe(true);
  });

  it('keeps every line as JSON in the ring, whatever the output', () => {
    const { log } = capture('info', 'text');
    log.info('kept', { request_id: 'r-2' });
    const [entry] = log.ring.query({ levelMin: 'debug', sinceMs: null, limit: 10 });
    expect(entry?.level).toBe('info');
    expect(JSON.parse(entry!.json)).toMatchObject({ msg: 'kept', request_id: 'r-2' });
  });
});

describe('output selection', () => {
  it.each([
    ['auto', true, 'pretty'],
    ['auto', false, 'json'],
    ['json', true, 'json'],
    ['text', false, 'text'],
    ['text', true, 'text'],
  ] as const)('format %s with a terminal %s writes %s', (format, isTty, output) => {
    expect(logOutputFor(format, isTty)).toBe(output);
  });

  it('auto writes coloured one-line text on a terminal and JSON elsewhere', () => {
    const tty = capture('info', 'auto', true);
    tty.log.info('hello', { request_id: 'r-3' });
    expect(tty.lines[0]).toContain(ANSI_ESCAPE);
    expect(tty.lines[0]).toMatch(/INFO.*hello.*r-3/);
    expect(tty.lines[0]!.trimEnd()).not.toContain('\n');
    const pipe = capture('info', 'auto', false);
    pipe.log.info('hello');
    expect(JSON.parse(pipe.lines[0]!)).toMatchObject({ level: 'info', msg: 'hello' });
  });

  it('text is the same one-line text without colours', () => {
    const { log, lines } = capture('info', 'text', true);
    log.warn('AUTHENTICATION IS DISABLED');
    expect(lines[0]).not.toContain(ANSI_ESCAPE);
    expect(lines[0]).toMatch(/^\[\d{4}-\d\d-\d\dT[\d:.]+Z\] WARN: AUTHENTICATION IS DISABLED\n$/);
  });
});

describe('redaction', () => {
  const secret = 'hunter2-5Rk9aZq';
  it.each([
    [`GET /query?db=telegraf&u=admin&p=${secret}&q=SHOW`, secret, 'p='],
    [`/api/v2/write?bucket=b&token=${secret}`, secret, 'token='],
    [`Authorization: Bearer ${secret}`, secret, 'Authorization: '],
    [`authorization=Token ${secret}`, secret, 'authorization='],
    [`sent Bearer ${secret} twice`, secret, 'Bearer '],
    [`InfluxDB 2.x header Token ${secret}`, secret, 'Token '],
    ['Basic YWRtaW46cGFzcw== from curl -u', 'YWRtaW46cGFzcw==', 'Basic '],
    ['Bearer abcdefghijklmnopqrstu', 'abcdefghijklmnopqrstu', 'Bearer '],
    [`{"x-api-key": "${secret}"}`, secret, 'x-api-key'],
    [`https://s3.local/b/k?X-Amz-Credential=AKIA&X-Amz-Signature=${secret}`, secret, 'X-Amz-Signature='],
  ])('removes the secret of %s', (text, hidden, kept) => {
    const redacted = redactText(text);
    expect(redacted).not.toContain(hidden);
    expect(redacted).toContain(REDACTED);
    expect(redacted).toContain(kept);
  });

  it('leaves text without secrets alone', () => {
    for (const text of ['Token 12 not found', 'Basic authentication', 'Token management is unavailable', 'SELECT * FROM cpu WHERE host = \'p=1\'', 'tokens: adopted the shared token table', 'q=SELECT&db=x&u=admin']) {
      expect(redactText(text)).toBe(text);
    }
  });

  it('redacts messages and fields of every line, by value and by field name', () => {
    const { log, lines } = capture('debug', 'json');
    log.debug(`request /query?p=${secret}`, { query: `db=x&p=${secret}`, authorization: 'anything', token: 'anything', request_id: 'r-4' });
    expect(lines[0]).not.toContain(secret);
    expect(lines[0]).not.toContain('anything');
    expect(JSON.parse(lines[0]!)).toMatchObject({ authorization: REDACTED, token: REDACTED, request_id: 'r-4' });
    expect(log.ring.query({ levelMin: 'debug', sinceMs: null, limit: 1 })[0]?.json).not.toContain(secret);
  });
});
