import { ArcError, ErrorKind } from '@arc/errors';
import { ConfigErrorCode } from './error-codes.js';

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
