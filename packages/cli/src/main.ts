#!/usr/bin/env node
// Must stay the first import: it sizes libuv's thread pool before anything uses it.
import './threadpool-size.js';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '@arc/config';
import { isArcError } from '@arc/errors';
import type { RunningServer, StopReport } from '@arc/server';
import { CommandUsageError, parseArgsErrorMessage, wantsHelp } from './command-text.js';
import { EXIT_FAILED, EXIT_OK, EXIT_ROWS_UNFLUSHED, EXIT_USAGE, exitCodesText } from './exit-codes.js';

/** The CLI's version: the workspaces are versioned together, so it is the server's too. */
const VERSION = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

const USAGE = `Usage: arc <command> [options]

Commands:
  serve [--config <arc.conf>]   start the server (configuration: arc.conf, then ARC_* environment variables)
  token <subcommand>            create, list, revoke, rotate or delete API tokens
  compact [options]             compact now through a running server, with progress
  retention <subcommand>        manage retention policies and run them now, with progress
  cq <subcommand>               list, create, show, delete, execute continuous queries (and their runs)
  delete [options]              delete the rows a SQL condition matches, through a running server
  import <file|dir> [options]   stream a line protocol, CSV or Parquet file to a running server
  import influx|postgres ...    import from InfluxDB or PostgreSQL as a job the server runs, with progress
  export [options]              write a measurement's rows to a Parquet, CSV or line protocol file
  health [--ready] [--json]     ask a running server whether it is healthy or ready
  version [--json]              print the version (also: arc --version, arc -V)
  help                          show this text

'arc <command> --help' describes a command. Without a command, arc serves.
${exitCodesText('success', 'failure', '3  (arc serve) a stop left acknowledged rows unwritten')}`;

const SERVE_USAGE = `Usage: arc serve [--config <arc.conf>]

Starts the server in the foreground: HTTP on server.host:server.port, data in storage.data_dir.
The configuration is arc.conf (the working directory's, or --config, or ARC_CONFIG) with ARC_*
environment variables over it (README "Configuration"). SIGTERM or SIGINT stops it cleanly:
in-flight requests are answered and every acknowledged row is flushed before it exits.

Options:
  --config <arc.conf>    the configuration file
  -h, --help             show this text

${exitCodesText('stopped cleanly', 'could not start (configuration, data directory locked, port taken) or a thread died', '3  a stop could not write every acknowledged row to Parquet (the log says how many, and whether the WAL keeps them)')}`;

const VERSION_USAGE = `Usage: arc version [--json]   (also: arc --version, arc -V)

Prints the version of Arc: "arc <version>", or {"name":"arc","version":...,"node":...} with --json.

${exitCodesText('printed', 'never')}`;

type OptionTypes = Record<string, { type: 'string' | 'boolean' }>;

/** node:util's parseArgs, strict, no positionals; its errors become usage errors (exit 2). */
function parseOptions<T extends OptionTypes>(args: readonly string[], options: T): ReturnType<typeof parseArgs<{ args: string[]; options: T; strict: true; allowPositionals: false }>>['values'] {
  try {
    return parseArgs({ args: [...args], options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new CommandUsageError(parseArgsErrorMessage(error as Error & { code?: unknown }, options));
  }
}

function exitCodeOf(report: StopReport, fatal: boolean): number {
  if (report.rowsUnflushed > 0 || report.writersUnreported > 0) return EXIT_ROWS_UNFLUSHED;
  return fatal ? EXIT_FAILED : EXIT_OK;
}

async function serve(args: readonly string[]): Promise<void> {
  if (wantsHelp(args)) {
    process.stdout.write(SERVE_USAGE);
    return;
  }
  const { config: configPath } = parseOptions(args, { config: { type: 'string' } });
  const config = loadConfig({ configPath });
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

function version(args: readonly string[]): void {
  if (wantsHelp(args)) {
    process.stdout.write(VERSION_USAGE);
    return;
  }
  const { json } = parseOptions(args, { json: { type: 'boolean' } });
  process.stdout.write(json === true ? `${JSON.stringify({ name: 'arc', version: VERSION, node: process.version })}\n` : `arc ${VERSION}\n`);
}

const io = { stdout: process.stdout, stderr: process.stderr };

async function main(argv: readonly string[]): Promise<void> {
  const [command = 'serve', ...rest] = argv;
  switch (command) {
    case 'serve':
      return serve(rest);
    case 'token': {
      const { tokenCommand } = await import('./token-command.js');
      process.exitCode = await tokenCommand(rest, io);
      return;
    }
    case 'compact': {
      // Loaded here: `arc serve` and `arc token` need none of it.
      const { compactCommand } = await import('./compact-command.js');
      process.exitCode = await compactCommand(rest, { ...io, stderrIsTTY: process.stderr.isTTY, env: process.env });
      return;
    }
    case 'retention': {
      const { retentionCommand } = await import('./retention-command.js');
      process.exitCode = await retentionCommand(rest, { ...io, stderrIsTTY: process.stderr.isTTY, env: process.env });
      return;
    }
    case 'cq': {
      const { cqCommand } = await import('./cq-command.js');
      process.exitCode = await cqCommand(rest, { ...io, stderrIsTTY: process.stderr.isTTY, env: process.env });
      return;
    }
    case 'delete': {
      const { deleteCommand } = await import('./delete-command.js');
      process.exitCode = await deleteCommand(rest, { ...io, stderrIsTTY: process.stderr.isTTY, env: process.env });
      return;
    }
    case 'import': {
      const { importCommand } = await import('./import-command.js');
      const { isImportJobSource } = await import('./import-job-command.js');
      // A job's run: the first Ctrl-C cancels it on the server (and the command reports it); a
      // second one kills as usual. A file import is ended by Ctrl-C at once (the server drops it).
      const interrupt = new AbortController();
      if (isImportJobSource(rest[0])) process.once('SIGINT', () => interrupt.abort());
      process.exitCode = await importCommand(rest, { ...io, stderrIsTTY: process.stderr.isTTY, stdoutIsTTY: process.stdout.isTTY, env: process.env, interrupt: interrupt.signal });
      return;
    }
    case 'export': {
      const { exportCommand } = await import('./export-command.js');
      process.exitCode = await exportCommand(rest, { ...io, stderrIsTTY: process.stderr.isTTY, env: process.env });
      return;
    }
    case 'health': {
      const { healthCommand } = await import('./health-command.js');
      process.exitCode = await healthCommand(rest, io);
      return;
    }
    case 'version':
    case '--version':
    case '-V':
      version(rest);
      return;
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return;
    default:
      throw new CommandUsageError(command.startsWith('-') ? `unknown option '${command}' (a command comes first)` : `unknown command '${command}'`);
  }
}

/** The command a usage error thrown here is about (serve and version parse in main), else null. */
function commandOf(argv: readonly string[]): 'serve' | 'version' | null {
  const [command = 'serve'] = argv;
  return command === 'serve' || command === 'version' ? command : null;
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof CommandUsageError) {
    const command = commandOf(process.argv.slice(2));
    process.stderr.write(command === null ? `arc: ${error.message}\n\n${USAGE}` : `arc ${command}: ${error.message} (see 'arc ${command} --help')\n`);
    process.exit(EXIT_USAGE);
  }
  if (error instanceof ConfigError) {
    process.stderr.write(`arc: configuration error: ${error.message}\n`);
  } else if (isArcError(error)) {
    // An expected start-up failure (data directory locked, port taken): the message says it all.
    process.stderr.write(`arc: cannot start: ${error.message} (${error.code})\n`);
  } else {
    process.stderr.write(`arc: failed: ${(error as Error).stack ?? String(error)}\n`);
  }
  process.exit(EXIT_FAILED);
});
