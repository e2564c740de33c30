import { ArcError, ErrorKind } from '@arc/errors';
import { ImporterErrorCode } from './error-codes.js';
import { HTTP_JSON_DRIVER } from './http-json-driver.js';
import type { SourceDriver, SourceType } from './source.js';

/**
 * The driver of each connection type. A type without a driver yet is refused where it is named
 * (a connection or job of that type cannot be made), never accepted and then failed.
 */
const DRIVERS: Partial<Record<SourceType, SourceDriver>> = {
  'http-json': HTTP_JSON_DRIVER,
};

export function driverFor(type: SourceType): SourceDriver {
  const driver = DRIVERS[type];
  if (driver === undefined) throw new ArcError(ErrorKind.badRequest, ImporterErrorCode.badSettings, `connection type '${type}' has no driver in this build`);
  return driver;
}
