/** Stable codes of configuration errors; tests and the CLI match on these, not on messages. */
export const ConfigErrorCode = Object.freeze({
  /** A section or key that arc.conf does not have (usually a typo). */
  unknownKey: 'ARC_CONFIG_UNKNOWN_KEY',
  /** A value of the wrong type or outside its range, in the file or in an ARC_* variable. */
  badValue: 'ARC_CONFIG_BAD_VALUE',
  /** The config file is missing (when named explicitly), unreadable, too large or not TOML. */
  badFile: 'ARC_CONFIG_BAD_FILE',
} as const);
export type ConfigErrorCode = (typeof ConfigErrorCode)[keyof typeof ConfigErrorCode];
