// Limits of the importer, with what each costs and why it is where it is.

/** A connection's name: shown in lists and logs; 128 characters name anything a person types. */
export const CONNECTION_NAME_LENGTH_MAX = 128;

/**
 * A connection's secret (password, token, header value): InfluxDB 2.x tokens are 88 characters,
 * cloud API keys a few hundred; 4 KiB is far above any and keeps a row small.
 */
export const CONNECTION_SECRET_BYTES_MAX = 4096;

/** A connection's settings as JSON text: a URL, a few names and headers; 16 KiB bounds a row. */
export const CONNECTION_SETTINGS_BYTES_MAX = 16 * 1024;

/**
 * How long `POST /connections/{type}/test` waits for the source to connect, authenticate and
 * answer before it answers `ok: false`: long enough for a TLS handshake across a continent and
 * a cold database, short enough that a request (and the admin waiting on it) is not held long.
 */
export const CONNECTION_TEST_TIMEOUT_MS = 15_000;
