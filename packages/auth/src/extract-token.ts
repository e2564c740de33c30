/**
 * Where clients put tokens (README, Authentication), tried in this order:
 *   Authorization: Bearer <t> | Token <t> (InfluxDB 2.x) | Basic base64(user:<t>) (InfluxDB 1.x)
 *   x-api-key: <t>                                       (Telegraf outputs.arc, Arc SDKs)
 *   ?p=<t>, also as ?u=<user>&p=<t>                      (InfluxDB 1.x query parameters)
 * An Authorization header with another scheme does not stop the search.
 */
export interface TokenHeaders {
  readonly authorization?: string | undefined;
  readonly 'x-api-key'?: string | readonly string[] | undefined;
}

const AUTHORIZATION_PATTERN = /^([A-Za-z]+)[ \t]+(\S.*)$/;

function nonEmpty(text: string | undefined): string | null {
  const trimmed = text?.trim();
  return trimmed === undefined || trimmed === '' ? null : trimmed;
}

/** HTTP Basic carries `user:password`; InfluxDB 1.x clients send the token as the password. */
function basicPassword(credentials: string): string | null {
  const decoded = Buffer.from(credentials, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? null : nonEmpty(decoded.slice(colon + 1));
}

function fromAuthorization(header: string | undefined): string | null {
  if (header === undefined) return null;
  const match = AUTHORIZATION_PATTERN.exec(header.trim());
  if (match === null) return null;
  // Both groups of AUTHORIZATION_PATTERN are mandatory: a match has them.
  const scheme = (match[1] as string).toLowerCase();
  const credentials = match[2] as string;
  if (scheme === 'bearer' || scheme === 'token') return nonEmpty(credentials);
  if (scheme === 'basic') return basicPassword(credentials.trim());
  return null;
}

function fromApiKey(header: string | readonly string[] | undefined): string | null {
  return nonEmpty(typeof header === 'string' ? header : header?.[0]);
}

/** The token a request carries, or null when it carries none. */
export function extractToken(headers: TokenHeaders, query: URLSearchParams): string | null {
  return fromAuthorization(headers.authorization) ?? fromApiKey(headers['x-api-key']) ?? nonEmpty(query.get('p') ?? undefined);
}
