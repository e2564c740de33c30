import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import toml from 'toml';
import { CONFIG_PATH_ENV } from './config-env.js';
import { ConfigError } from './config-error.js';
import { ConfigErrorCode } from './error-codes.js';
import { CONFIG_FILE_BYTES_MAX } from './limits.js';

/** The file looked for in the working directory when no path is given. */
export const DEFAULT_CONFIG_FILE_NAME = 'arc.conf';

export interface ConfigFileSource {
  /** Absolute path of the file that was read; null when the default file does not exist. */
  readonly path: string | null;
  /** How the file is named in messages: relative to the working directory when inside it. */
  readonly displayName: string;
  /** The parsed TOML document ({} without a file). */
  readonly document: Readonly<Record<string, unknown>>;
}

interface Located {
  readonly path: string;
  /** The setting that named the file, for error keys: `configPath`, `ARC_CONFIG` or `arc.conf`. */
  readonly namedBy: string;
  readonly explicit: boolean;
}

function locate(configPath: string | undefined, env: NodeJS.ProcessEnv, cwd: string): Located {
  if (configPath !== undefined) return { path: resolve(cwd, configPath), namedBy: 'configPath', explicit: true };
  const fromEnv = env[CONFIG_PATH_ENV];
  if (fromEnv !== undefined && fromEnv !== '') {
    return { path: resolve(cwd, fromEnv), namedBy: CONFIG_PATH_ENV, explicit: true };
  }
  return { path: resolve(cwd, DEFAULT_CONFIG_FILE_NAME), namedBy: DEFAULT_CONFIG_FILE_NAME, explicit: false };
}

function displayNameOf(path: string, cwd: string): string {
  const inside = relative(cwd, path);
  return inside !== '' && !inside.startsWith('..') && !isAbsolute(inside) ? inside : path;
}

function errnoCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

function fileError(located: Located, message: string): ConfigError {
  return new ConfigError(ConfigErrorCode.badFile, located.namedBy, located.path, message);
}

/** Where a TOML parse error is: syntax errors carry `location`, semantic ones `line`/`column`. */
function tomlErrorPosition(error: unknown): string {
  if (typeof error !== 'object' || error === null) return '';
  const record = error as { location?: { start?: { line?: unknown; column?: unknown } }; line?: unknown; column?: unknown };
  const line = record.location?.start?.line ?? record.line;
  const column = record.location?.start?.column ?? record.column;
  if (typeof line !== 'number') return '';
  return typeof column === 'number' ? ` at line ${line}, column ${column}` : ` at line ${line}`;
}

function readText(located: Located): string | null {
  let size: number;
  try {
    size = statSync(located.path).size;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT' && !located.explicit) return null;
    if (errnoCode(error) === 'ENOENT') {
      throw fileError(located, `Config file not found: ${located.path} (named by ${located.namedBy})`);
    }
    throw fileError(located, `Cannot read config file ${located.path}: ${String(error)}`);
  }
  if (size > CONFIG_FILE_BYTES_MAX) {
    throw fileError(located, `Config file ${located.path} is ${size} bytes, more than ${CONFIG_FILE_BYTES_MAX}`);
  }
  try {
    return readFileSync(located.path, 'utf8');
  } catch (error) {
    throw fileError(located, `Cannot read config file ${located.path}: ${String(error)}`);
  }
}

/**
 * Finds and parses the config file: `configPath` ?? `$ARC_CONFIG` ?? `<cwd>/arc.conf`, relative
 * paths against `cwd`. Only the default file may be missing (then every key has its default); a
 * file named explicitly and missing is an error, because the operator meant something else.
 */
export function readConfigFile(configPath: string | undefined, env: NodeJS.ProcessEnv, cwd: string): ConfigFileSource {
  const located = locate(configPath, env, cwd);
  const displayName = displayNameOf(located.path, cwd);
  const text = readText(located);
  if (text === null) return { path: null, displayName, document: {} };
  let document: unknown;
  try {
    document = toml.parse(text);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw fileError(located, `Invalid TOML in ${displayName}${tomlErrorPosition(error)}: ${why}`);
  }
  if (typeof document !== 'object' || document === null) {
    throw fileError(located, `Invalid TOML in ${displayName}: not a table`);
  }
  return { path: located.path, displayName, document: document as Record<string, unknown> };
}
