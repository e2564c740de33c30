/**
 * What a log line must never carry: a token or password given in a header, a query string or a
 * field. Routes avoid logging such values in the first place; this is the net under them, applied
 * to every message and string field the logger writes (log.ts), so a new log line that quotes a
 * URL or a header cannot leak one.
 */
export const REDACTED = '[REDACTED]';

/**
 * Query-string and form parameters that carry a secret: InfluxDB 1.x's `p` (with `u`, the user
 * name, harmless), `token` and the usual spellings of keys and passwords.
 */
const SECRET_PARAMETERS = ['p', 'password', 'token', 'access_token', 'api_key', 'apikey', 'secret', 'secret_key', 'x-amz-signature', 'x-amz-credential'];

/** Field names whose value is a secret whatever it looks like (compared in lower case). */
const SECRET_FIELDS: ReadonlySet<string> = new Set([...SECRET_PARAMETERS, 'authorization', 'x-api-key', 'secret_access_key', 'secretaccesskey', 'secretkey', 'bootstrap_token']);

const PARAMETER_PATTERN = new RegExp(`([?&;](?:${SECRET_PARAMETERS.join('|')})=)[^&;\\s"'\`]*`, 'gi');
/**
 * A credential after its scheme, as in an Authorization header (`Bearer <token>`, `Token <token>`,
 * `Basic <base64>`): at least 8 characters, and either 16 or more or not all letters, so prose
 * stays ("Token 12 not found", "Basic authentication", "Token management is unavailable"). Arc's
 * tokens are 43 characters; a header quoted whole is caught by HEADER_PATTERN whatever its value.
 */
const CREDENTIAL_PATTERN = /\b(Bearer|Token|Basic)(\s+)(?=[A-Za-z0-9._~+/=-]{8})(?:[A-Za-z0-9._~+/=-]{16,}|[A-Za-z]*[0-9._~+/=-][A-Za-z0-9._~+/=-]*)/g;
/** `authorization: <the whole value, scheme included>` and `x-api-key: ...`, as a header dump shows them. */
const HEADER_PATTERN = /\b(authorization|x-api-key)(["']?\s*[:=]\s*["']?)[^\r\n"',}]+/gi;

/** `text` with every secret parameter's value, credential and secret header replaced by REDACTED. */
export function redactText(text: string): string {
  return text.replace(HEADER_PATTERN, `$1$2${REDACTED}`).replace(PARAMETER_PATTERN, `$1${REDACTED}`).replace(CREDENTIAL_PATTERN, `$1$2${REDACTED}`);
}

export function isSecretField(name: string): boolean {
  return SECRET_FIELDS.has(name.toLowerCase());
}
