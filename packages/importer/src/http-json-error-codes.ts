/** Stable codes of the HTTP JSON source (clients and tests depend on the strings). */
export const HttpJsonErrorCode = Object.freeze({
  /** A JSONPath of a mapping or pagination is outside the supported subset or malformed (400, names field and position). */
  badJsonPath: 'ARC_IMPORT_BAD_JSON_PATH',
  /** The API answered with a 4xx status (400: the settings, path or secret are wrong). */
  sourceRefused: 'ARC_IMPORT_SOURCE_REFUSED',
  /** The API could not be reached, timed out or answered 5xx (503: retry later). */
  sourceUnavailable: 'ARC_IMPORT_SOURCE_UNAVAILABLE',
  /** The API's answer is not what the mapping reads: not JSON, too large, `records` not an array of objects, a bad next link (400). */
  badAnswer: 'ARC_IMPORT_BAD_ANSWER',
  /** A record does not fit the mapping: no time, a time that is no time, a nested value at a field, a value not of the field's type (400, names record and field). */
  badRecord: 'ARC_IMPORT_BAD_RECORD',
  /** A one-shot export (POST /api/http-json/export) would pass its pages, rows or bytes bound: 400 suggesting a job; nothing was written. */
  exportTooLarge: 'ARC_IMPORT_EXPORT_TOO_LARGE',
  /** HTTP_JSON_EXPORTS_AT_ONCE one-shot exports are running: 503, retry later. */
  exportBusy: 'ARC_IMPORT_EXPORT_BUSY',
} as const);
export type HttpJsonErrorCode = (typeof HttpJsonErrorCode)[keyof typeof HttpJsonErrorCode];
