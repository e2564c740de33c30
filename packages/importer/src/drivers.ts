import { ArcError, ErrorKind } from '@arc/errors';
import { ImporterErrorCode } from './error-codes.js';
import { postgresDriver } from './postgres-driver.js';
import { HTTP_JSON_DRIVER } from './http-json-driver.js';
import type { SourceDriver, SourceType } from './source.js';

/**
 * The driver of each connection type. A type without a driver yet is refused where it is named
 * (a connection or job of that type cannot be made), never accepted and then failed.
 */
const DRIVERS: Partial<Record<SourceType, SourceDriver>> = {
  postgres: postgresDriver,
  'http-json': HTTP_JSON_DRIVER,
};

export function driverFor(type: SourceType): SourceDriver {
  const driver = DRIVERS[type];
  if (driver === undefined) throw new ArcError(ErrorKind.badRequest, ImporterErrorCode.badSettings, `connection type '${type}' has no driver in this build`);
  return driver;
}

/** Whether this build has a driver for `type` (connections are stored either way; a test or a job needs one). */
export function hasDriver(type: SourceType): boolean {
  return DRIVERS[type] !== undefined;
}
