import { ArcError, ErrorKind } from '@arc/errors';

/** Stable codes of configuration errors; tests and the CLI match on these, not on messages. */
export const ConfigErrorCode = {
  /** A section or key that arc.conf does not have (usually a typo). */
  unknownKey: 'ARC_CONFIG_UNKNOWN_KEY',
  /** A value of the wrong type or outside its range, in the file or in an ARC_* variable. */
  badValue: 'ARC_CONFIG_BAD_VALUE',
  /** The config file is missing (when named explicitly), unreadable, too large or not TOML. */
  badFile: 'ARC_CONFIG_BAD_FILE',
} as const;
export type ConfigErrorCode = (typeof ConfigErrorCode)[keyof typeof ConfigErrorCode];

/**
 * Why the configuration cannot be used. `key` names the setting at fault: a dotted arc.conf key
 * (`server.port`), an unknown section (`foo`), or for file-level problems the setting that named
 * the file (`configPath`, `ARC_CONFIG`, or `arc.conf` for the default file). `source` says where
 * the bad value came from: the file path or the environment variable.
 */
export class ConfigError extends ArcError {
  readonly key: string;
  readonly source: string;

  constructor(code: ConfigErrorCode, key: string, source: string, message: string) {
    super(ErrorKind.internal, code, message, { key, source });
    this.name = 'ConfigError';
    this.key = key;
    this.source = source;
  }
}
