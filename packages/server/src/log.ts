import { type LogFormat, type LogLevel } from '@arc/config';
import { truncateText } from '@arc/errors';
import { LOG_MESSAGE_CHARS_MAX } from './limits.js';

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

const LEVEL_RANK: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Lines to stderr (stdout stays free for what a user asked for, e.g. the bootstrap token). */
export function createLogger(level: LogLevel, format: LogFormat, write: (line: string) => void = (line) => process.stderr.write(line)): Logger {
  const emit = (lineLevel: LogLevel, message: string): void => {
    if (LEVEL_RANK[lineLevel] < LEVEL_RANK[level]) return;
    const ts = new Date().toISOString();
    const bounded = truncateText(message, LOG_MESSAGE_CHARS_MAX);
    write(format === 'json' ? `${JSON.stringify({ ts, level: lineLevel, msg: bounded })}\n` : `${ts} ${lineLevel.toUpperCase().padEnd(5)} ${bounded}\n`);
  };
  return {
    debug: (message) => emit('debug', message),
    info: (message) => emit('info', message),
    warn: (message) => emit('warn', message),
    error: (message) => emit('error', message),
  };
}
