export { PERMISSIONS, isAllowed, isPermission } from './permissions.js';
export type { Permission, TokenInfo } from './permissions.js';
export { TOKEN_ID_PATTERN, TokenStore, parseTokenId } from './token-store.js';
export type { CreateTokenInput, NewToken, PreparedSecret, PreparedToken, TokenPatch, TokenRecord, TokenStoreOptions, TokenSummary, TokenTableContent } from './token-store.js';
export { TOKEN_TABLE_FORMAT, decodeTokenTable, encodeTokenTable } from './token-table.js';
export type { SharedTokenTable } from './token-table.js';
export { LocalTokenAccess } from './token-access.js';
export type { TokenAccess } from './token-access.js';
export { TokenVerifier } from './token-verifier.js';
export type { TokenVerifierOptions } from './token-verifier.js';
export { extractToken } from './extract-token.js';
export type { TokenHeaders } from './extract-token.js';
export { AUTH_ERRORS } from './auth-errors.js';
export { AuthFailureCounter, AuthFailureReason } from './auth-failures.js';
export type { AuthFailureCounts } from './auth-failures.js';
export { isoOrNull, newTokenJson, parseExpiresIn, parseRfc3339Ms, tokenJson } from './token-json.js';
export type { NewTokenJson, TokenJson } from './token-json.js';
export {
  AUTH_CACHE_ENTRIES_MAX,
  AUTH_NEGATIVE_CACHE_ENTRIES_MAX,
  AUTH_NEGATIVE_CACHE_TTL_MS,
  TOKEN_DESCRIPTION_LENGTH_MAX,
  TOKEN_NAME_PATTERN,
  TOKEN_TEXT_LENGTH_MAX,
} from './limits.js';
export { AuthErrorCode } from './error-codes.js';
export { generateTokenText } from './token-hash.js';
