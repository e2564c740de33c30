// @ts-check
// Answers of the query benchmark in one comparable form: Arc's JSON answer (row-major, timestamps
// as RFC 3339 text, BIGINT beyond 2^53 as text) and DuckDB's own result (node-api values) become
// rows of canonical values (timestamps as epoch microseconds, integers as decimal text, floats as
// numbers, text as text), so `--verify` can say where two answers differ.

/** Relative tolerance for floats: the same avg() may be summed in another order by another plan. */
export const FLOAT_RELATIVE_TOLERANCE = 1e-9;
/** Differences listed in a mismatch message. */
const DIFFERENCES_SHOWN = 3;

/** @typedef {'timestamp' | 'integer' | 'float' | 'text' | 'other'} ValueKind */
/** @typedef {string | number | null} Canonical */
/** @typedef {{ columns: string[], kinds: ValueKind[], rows: Canonical[][] }} Answer */

/**
 * How a DuckDB type name is compared.
 * @param {string} typeName e.g. TIMESTAMP, BIGINT, DOUBLE, VARCHAR
 * @returns {ValueKind}
 */
export function kindOfType(typeName) {
  const t = typeName.toUpperCase();
  if (t === 'TIMESTAMP' || t === 'TIMESTAMP_US' || t === 'TIMESTAMP WITH TIME ZONE') return 'timestamp';
  if (/^(U?(TINY|SMALL|BIG|HUGE)?INT(EGER)?|UHUGEINT)$/.test(t)) return 'integer';
  if (t === 'DOUBLE' || t === 'FLOAT' || t.startsWith('DECIMAL')) return 'float';
  if (t === 'VARCHAR') return 'text';
  return 'other';
}

const RFC3339 = /^(-?\d{4,})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?Z$/;

/**
 * Epoch microseconds of an RFC 3339 UTC instant (`...Z`, up to 9 fraction digits); null if the
 * text is not one.
 * @param {string} text
 */
export function rfc3339Micros(text) {
  const m = RFC3339.exec(text);
  if (!m) return null;
  const [, y, mo, d, h, mi, s, frac = ''] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  if (!Number.isFinite(ms)) return null;
  const micros = Number((frac + '000000').slice(0, 6));
  return ms * 1000 + micros;
}

/**
 * @param {unknown} value a value of Arc's JSON answer
 * @param {ValueKind} kind
 * @returns {Canonical}
 */
export function canonicalFromJson(value, kind) {
  if (value === null || value === undefined) return null;
  switch (kind) {
    case 'timestamp':
      return typeof value === 'string' ? (rfc3339Micros(value) ?? `unparsable instant ${value}`) : `not an instant: ${JSON.stringify(value)}`;
    case 'integer':
      if (typeof value === 'number' && Number.isInteger(value)) return String(value);
      if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value).toString();
      return `not an integer: ${JSON.stringify(value)}`;
    case 'float':
      return typeof value === 'number' ? value : `not a number: ${JSON.stringify(value)}`;
    case 'text':
      return typeof value === 'string' ? value : `not text: ${JSON.stringify(value)}`;
    default:
      return JSON.stringify(value);
  }
}

/**
 * @param {unknown} value a DuckDB node-api value (DuckDBValue)
 * @param {ValueKind} kind
 * @returns {Canonical}
 */
export function canonicalFromDuckDB(value, kind) {
  if (value === null || value === undefined) return null;
  switch (kind) {
    case 'timestamp': {
      const micros = /** @type {{ micros?: unknown }} */ (value).micros;
      return typeof micros === 'bigint' ? Number(micros) : `not an instant: ${String(value)}`;
    }
    case 'integer':
      return typeof value === 'bigint' || typeof value === 'number' ? BigInt(value).toString() : `not an integer: ${String(value)}`;
    case 'float': {
      const n = Number(value);
      return Number.isFinite(n) ? n : null; // Arc answers NaN and infinities as null
    }
    case 'text':
      return String(value);
    default:
      return String(value);
  }
}

/**
 * Arc's JSON answer in canonical form; column kinds come from DuckDB's answer to the same SQL
 * (Arc's JSON carries no types).
 * @param {{ columns?: unknown, data?: unknown }} body
 * @param {ValueKind[]} kinds
 * @returns {Answer}
 */
export function answerFromArcJson(body, kinds) {
  const columns = Array.isArray(body.columns) ? body.columns.map(String) : [];
  const data = Array.isArray(body.data) ? body.data : [];
  const rows = data.map((row) => (Array.isArray(row) ? row.map((v, i) => canonicalFromJson(v, kinds[i] ?? 'other')) : [`not a row: ${JSON.stringify(row)}`]));
  return { columns, kinds, rows };
}

/**
 * DuckDB's answer in canonical form.
 * @param {string[]} columns
 * @param {string[]} typeNames
 * @param {unknown[][]} rows
 * @returns {Answer}
 */
export function answerFromDuckDB(columns, typeNames, rows) {
  const kinds = typeNames.map(kindOfType);
  return { columns, kinds, rows: rows.map((row) => row.map((v, i) => canonicalFromDuckDB(v, /** @type {ValueKind} */ (kinds[i])))) };
}

/**
 * Floats are equal within the tolerance; everything else (timestamps too) exactly.
 * @param {Canonical} a
 * @param {Canonical} b
 * @param {ValueKind} kind
 */
function sameValue(a, b, kind) {
  if (kind === 'float' && typeof a === 'number' && typeof b === 'number') {
    if (a === b) return true;
    return Math.abs(a - b) <= FLOAT_RELATIVE_TOLERANCE * Math.max(Math.abs(a), Math.abs(b));
  }
  return a === b;
}

/** @param {Canonical[]} row */
function rowKey(row) {
  return JSON.stringify(row);
}

/**
 * Null when `actual` holds the same columns and rows as `expected` (in the same order when
 * `ordered`, as multisets otherwise), else a message naming the first differences.
 * @param {Answer} expected
 * @param {Answer} actual
 * @param {boolean} ordered
 * @returns {string | null}
 */
export function compareAnswers(expected, actual, ordered) {
  if (rowKey(expected.columns) !== rowKey(actual.columns)) {
    return `columns differ: expected ${rowKey(expected.columns)}, got ${rowKey(actual.columns)}`;
  }
  if (expected.rows.length !== actual.rows.length) {
    return `row count differs: expected ${expected.rows.length}, got ${actual.rows.length}`;
  }
  const left = ordered ? expected.rows : [...expected.rows].sort((a, b) => (rowKey(a) < rowKey(b) ? -1 : 1));
  const right = ordered ? actual.rows : [...actual.rows].sort((a, b) => (rowKey(a) < rowKey(b) ? -1 : 1));
  /** @type {string[]} */
  const differences = [];
  for (let r = 0; r < left.length && differences.length < DIFFERENCES_SHOWN; r++) {
    const want = /** @type {Canonical[]} */ (left[r]);
    const got = /** @type {Canonical[]} */ (right[r]);
    for (let c = 0; c < want.length; c++) {
      if (!sameValue(/** @type {Canonical} */ (want[c]), /** @type {Canonical} */ (got[c]), expected.kinds[c] ?? 'other')) {
        differences.push(`row ${r} column ${expected.columns[c]}: expected ${JSON.stringify(want[c])}, got ${JSON.stringify(got[c])}`);
        break;
      }
    }
  }
  return differences.length === 0 ? null : differences.join('; ');
}
