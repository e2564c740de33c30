#!/usr/bin/env node
// Must stay the first import: it sizes libuv's thread pool before anything uses it.
import './threadpool-size.js';
import { ConfigError, loadConfig } from '@arc/config';
import { isArcError } from '@arc/errors';
import type { RunningServer, StopReport } from '@arc/server';
import { tokenCommand } from './token-command.js';

const USAGE = `Usage: arc <command> [options]

Commands:
  serve [--config <arc.conf>]   start the server (configuration: arc.conf, then ARC_* environment variables)
  token <subcommand>            create, list, revoke, rotate or delete API tokens ('arc token help')
  compact [options]             compact now through a running server, with progress ('arc compact --help')
  help                          show this text
`;

/** Parses `--name value` pairs after the command; unknown flags are an error, not ignored. */
function parseFlags(args: readonly string[], known: readonly string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (let index = 0; index < args.length; index += 2) {
    const name = args[index] as string; // index < args.length
    const value = args[index + 1];
    if (!name.startsWith('--') || !known.includes(name.slice(2))) throw new UsageError(`unknown option '${name}'`);
    if (value === undefined) throw new UsageError(`option '${name}' needs a value`);
    flags.set(name.slice(2), value);
  }
  return flags;
}

class UsageError extends Error {}

/**
 * Exit codes of `arc serve`: 0 after a clean stop; 1 when it could not start or a thread died;
 * 3 when a stop could not write every acknowledged row to Parquet (the log line says how many,
 * and whether the WAL keeps them), so a supervisor or script sees it without reading logs.
 */
const EXIT_CLEAN = 0;
const EXIT_FAILED = 1;
const EXIT_ROWS_UNFLUSHED = 3;

function exitCodeOf(report: StopReport, fatal: boolean): number {
  if (report.rowsUnflushed > 0 || report.writersUnreported > 0) return EXIT_ROWS_UNFLUSHED;
  return fatal ? EXIT_FAILED : EXIT_CLEAN;
}

async function serve(args: readonly string[]): Promise<void> {
  const flags = parseFlags(args, ['config']);
  const config = loadConfig({ configPath: flags.get('config') });
  // Loaded here, not at the top: `arc token` does not need uWS, DuckDB and the thread code.
  const { createLogger, startServer } = await import('@arc/server');
  const log = createLogger(config.log.level, config.log.format, undefined, { ringLines: config.log.ringLines });
  let fatalReason: string | null = null;
  let stop: (signal: string) => void = () => undefined;
  const server: RunningServer = await startServer(config, {
    log,
    onFatal: (reason) => {
      fatalReason = reason;
      stop('fatal error');
    },
  });
  let stopping = false;
  stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal} received`);
    server.close().then(
      (report) => process.exit(exitCodeOf(report, fatalReason !== null)),
      (error: unknown) => {
        log.error(`shutdown failed: ${(error as Error).stack ?? String(error)}`);
        process.exit(EXIT_FAILED);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

async function main(argv: readonly string[]): Promise<void> {
  const [command = 'serve', ...rest] = argv;
  switch (command) {
    case 'serve':
      return serve(rest);
    case 'token':
      process.exitCode = await tokenCommand(rest, { stdout: process.stdout, stderr: process.stderr });
      return;
    case 'compact': {
      // Loaded here: `arc serve` and `arc token` need none of it.
      const { compactCommand } = await import('./compact-command.js');
      const io = { stdout: process.stdout, stderr: process.stderr, stderrIsTTY: process.stderr.isTTY, env: process.env };
      process.exitCode = await compactCommand(rest, io);
      return;
    }
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return;
    default:
      throw new UsageError(`unknown command '${command}'`);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`arc: configuration error: ${error.message}\n`);
  } else if (error instanceof UsageError) {
    process.stderr.write(`arc: ${error.message}\n\n${USAGE}`);
  } else if (isArcError(error)) {
    // An expected start-up failure (data directory locked, port taken): the message says it all.
    process.stderr.write(`arc: cannot start: ${error.message} (${error.code})\n`);
  } else {
    process.stderr.write(`arc: failed to start: ${(error as Error).stack ?? String(error)}\n`);
  }
  process.exit(1);
});
