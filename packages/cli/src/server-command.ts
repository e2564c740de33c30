import { ConfigError } from '@arc/config';
import { ServerRequestError } from './api-client.js';
import { CommandUsageError, wantsHelp } from './command-text.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from './exit-codes.js';
import { checkedServerUrl } from './server-url.js';

/**
 * What the commands that talk to a running server (`arc compact`, `arc retention`, `arc delete`, `arc cq`)
 * share: the options that name the server and the token, the streams they write to, and how a
 * failure becomes one line on stderr and an exit code.
 */

/** The options every server command takes (its usage text describes them). */
export const SERVER_OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
  config: { type: 'string' },
} as const;

/** The server options of a command line, checked. */
export interface ServerTarget {
  /** Null: derived from the configuration's server port (serverUrlOf). */
  readonly url: string | null;
  /** --token, else ARC_TOKEN; null when neither is given or it is empty. */
  readonly token: string | null;
  readonly json: boolean;
  readonly configPath: string | undefined;
}

/** The server options' values as parseArgs gives them, checked (a bad --url is a usage error). */
export function serverTargetOf(values: Readonly<Record<string, string | boolean | undefined>>, env: NodeJS.ProcessEnv): ServerTarget {
  const token = typeof values.token === 'string' ? values.token : (env.ARC_TOKEN ?? null);
  return {
    url: typeof values.url === 'string' ? checkedServerUrl(values.url) : null,
    token: token === '' ? null : token,
    json: values.json === true,
    configPath: typeof values.config === 'string' ? values.config : undefined,
  };
}

/** Where a server command writes, whether stderr is a terminal (progress drawn in place) and the environment (ARC_TOKEN). */
export interface ServerCommandIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  readonly stderrIsTTY: boolean;
  readonly env: NodeJS.ProcessEnv;
}

/**
 * `arc <name> ...`: the usage text when asked for, else `run`'s exit code. A bad command line
 * (exit 2, pointing at --help), a server that refused or could not be reached, or a configuration
 * error (exit 1) is one line on stderr; anything else is a bug and goes up.
 */
export async function runServerCommand(name: string, usage: string, args: readonly string[], io: ServerCommandIo, run: () => Promise<number>): Promise<number> {
  if (wantsHelp(args)) {
    io.stdout.write(usage);
    return EXIT_OK;
  }
  try {
    return await run();
  } catch (error) {
    if (error instanceof CommandUsageError) {
      io.stderr.write(`arc ${name}: ${error.message} (see 'arc ${name} --help')\n`);
      return EXIT_USAGE;
    }
    if (!(error instanceof ServerRequestError || error instanceof ConfigError)) throw error;
    io.stderr.write(`arc ${name}: ${error instanceof ConfigError ? `configuration error: ${error.message}` : error.message}\n`);
    return EXIT_FAILED;
  }
}
