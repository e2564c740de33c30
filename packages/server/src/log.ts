import assert from 'node:assert/strict';
import { pino, type Logger as PinoLogger } from 'pino';
import PinoPretty from 'pino-pretty';
import type { LogFormat, LogLevel } from '@arc/config';
import { truncateText } from '@arc/errors';
import type { LogFields, Logger } from '@arc/ingest';
import { LOG_FIELD_CHARS_MAX, LOG_MESSAGE_CHARS_MAX, LOG_RING_BYTES_MAX } from './limits.js';
import { REDACTED, isSecretField, redactText } from './log-redact.js';
import { LogRing } from './log-ring.js';

export type { LogFields, Logger };

/** How lines are written once `auto` is decided: JSON lines, or pino-pretty's one-line text (coloured on a terminal). */
export const LogOutput = { json: 'json', text: 'text', pretty: 'pretty' } as const;
export type LogOutput = (typeof LogOutput)[keyof typeof LogOutput];

/** The server's logger: the Logger every package writes to, plus what the server itself needs. */
export interface ServerLogger extends Logger {
  /** False when a line of `level` would be dropped: skip building its fields. */
  isLevelEnabled(level: LogLevel): boolean;
  /** The recent lines, for GET /logs. */
  readonly ring: LogRing;
}

export interface LoggerOptions {
  /** Whether stderr is a terminal (decides `auto`); process.stderr.isTTY by default. */
  readonly isTty?: boolean;
  /** Lines kept for GET /logs (`[log] ring_lines`). */
  readonly ringLines?: number;
}

/** `auto` is pretty on a terminal and JSON anywhere else (a pipe, a file, journald, docker's log driver). */
export function logOutputFor(format: LogFormat, isTty: boolean): LogOutput {
  if (format === 'auto') return isTty ? LogOutput.pretty : LogOutput.json;
  return format === 'json' ? LogOutput.json : LogOutput.text;
}

/**
 * pino writes `{"level":"<label>","time":"<ISO>",...` with the options below: the ring reads
 * both from the front of the line instead of parsing it whole.
 */
const LINE_HEAD = /^\{"level":"(debug|info|warn|error)","time":"([^"]+)"/;
const DEFAULT_RING_LINES = 1000;

/** Turns a JSON line into what `output` writes: itself, or pino-pretty's text. */
function formatterFor(output: LogOutput): (line: string) => string {
  if (output === LogOutput.json) return (line) => line;
  // translateTime false: the ISO time stays as written (UTC, milliseconds), one line per entry.
  return PinoPretty.prettyFactory({ colorize: output === LogOutput.pretty, singleLine: true, translateTime: false, messageKey: 'msg' });
}

function ringEntry(line: string): { level: LogLevel; timeMs: number } {
  const head = LINE_HEAD.exec(line);
  assert.ok(head !== null, 'pino writes the level and the time first (the options of createLogger)');
  return { level: head[1] as LogLevel, timeMs: Date.parse(head[2] as string) };
}

/**
 * The one stream pino writes to, synchronously: each JSON line goes to the ring and, formatted,
 * to `write`. No worker-thread transport: a line is out before the call that logged it returns,
 * so a `process.exit` right after a fatal error loses nothing.
 */
function sinkFor(output: LogOutput, ring: LogRing, write: (line: string) => void): { write(line: string): void } {
  const format = formatterFor(output);
  return {
    write(line: string): void {
      ring.push({ ...ringEntry(line), json: line.trimEnd(), bytes: Buffer.byteLength(line) });
      write(format(line));
    },
  };
}

/** Fields as logged: secrets replaced, strings bounded, keys that pino writes itself left out. */
function safeFields(fields: LogFields): Record<string, string | number | boolean | null> {
  const safe: Record<string, string | number | boolean | null> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (key === 'level' || key === 'time' || key === 'msg' || value === undefined) continue;
    if (isSecretField(key)) safe[key] = REDACTED;
    else safe[key] = typeof value === 'string' ? truncateText(redactText(value), LOG_FIELD_CHARS_MAX) : value;
  }
  return safe;
}

function wrap(logger: PinoLogger, ring: LogRing): ServerLogger {
  const emit = (level: LogLevel, message: string, fields: LogFields | undefined): void => {
    if (!logger.isLevelEnabled(level)) return;
    // Redacted before it is cut, so a cut cannot leave part of a secret unrecognised.
    const text = truncateText(redactText(message), LOG_MESSAGE_CHARS_MAX);
    if (fields === undefined) logger[level](text);
    else logger[level](safeFields(fields), text);
  };
  return {
    debug: (message, fields) => emit('debug', message, fields),
    info: (message, fields) => emit('info', message, fields),
    warn: (message, fields) => emit('warn', message, fields),
    error: (message, fields) => emit('error', message, fields),
    isLevelEnabled: (level) => logger.isLevelEnabled(level),
    ring,
  };
}

/**
 * Writes to fd 2 synchronously (pino's SonicBoom in sync mode: write(2), retried on EAGAIN).
 * process.stderr is asynchronous when stderr is a socket or a full pipe, and its queue is
 * dropped by process.exit: a fatal error's reason, logged just before the exit, would be lost.
 */
function stderrWriter(): (line: string) => void {
  const destination = pino.destination({ dest: 2, sync: true });
  return (line) => destination.write(line);
}

/**
 * Structured log lines (pino) to stderr: stdout stays free for what a user asked for, e.g. the
 * bootstrap token. Every line, whatever the output, is also kept as JSON in a bounded ring for
 * GET /logs. Worker threads do not log themselves: they post their lines to the main thread,
 * whose logger this is (the writers' 'log' messages, ingest-pipeline.ts).
 */
export function createLogger(level: LogLevel, format: LogFormat, write: (line: string) => void = stderrWriter(), options: LoggerOptions = {}): ServerLogger {
  const output = logOutputFor(format, options.isTty ?? process.stderr.isTTY);
  const ring = new LogRing(options.ringLines ?? DEFAULT_RING_LINES, LOG_RING_BYTES_MAX);
  const logger = pino(
    {
      level,
      // No pid and hostname on every line: journald and docker record both already.
      base: null,
      timestamp: pino.stdTimeFunctions.isoTime,
      messageKey: 'msg',
      formatters: { level: (label) => ({ level: label }) },
    },
    sinkFor(output, ring, write),
  );
  return wrap(logger, ring);
}
