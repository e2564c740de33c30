// Proves every ARC_... code lives in exactly one code table: it loads every package's
// `*error-codes.ts` found on disk, checks each table is frozen and its codes well-formed and unique
// across all packages, and scans every other source file for a quoted `ARC_...` literal.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const PACKAGES_DIR = path.resolve(import.meta.dirname, '../..');
const CODE_TABLE_FILE = /(^|-)error-codes\.ts$/;
const CODE_PATTERN = /^ARC_[A-Z0-9_]+$/;
/** A quoted ARC_ word in code (comments are skipped line by line: they may name a code). */
const QUOTED_CODE = /['"`](ARC_[A-Z0-9_]+)['"`]/g;
/**
 * Quoted ARC_ words that are not error codes: the name of the config file's environment
 * variable (the other ARC_* variables are built from the keys, with the `ARC_` prefix).
 */
const NOT_CODES: ReadonlySet<string> = new Set(['config/src/config-env.ts:ARC_CONFIG']);

function sourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => path.join(entry.parentPath, entry.name));
}

function packageSources(): string[] {
  return readdirSync(PACKAGES_DIR, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .flatMap((entry) => {
      const src = path.join(PACKAGES_DIR, entry.name, 'src');
      try {
        return sourceFiles(src);
      } catch {
        return [];
      }
    });
}

interface CodeTable {
  readonly file: string;
  readonly name: string;
  readonly table: Readonly<Record<string, unknown>>;
}

async function loadCodeTables(): Promise<CodeTable[]> {
  const tables: CodeTable[] = [];
  for (const file of packageSources().filter((source) => CODE_TABLE_FILE.test(path.basename(source)))) {
    const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    for (const [name, value] of Object.entries(module)) {
      if (typeof value === 'object' && value !== null) tables.push({ file: path.relative(PACKAGES_DIR, file), name, table: value as Record<string, unknown> });
    }
  }
  return tables;
}

/** `pkg/src/file.ts:ARC_X` for every quoted ARC_ word outside comments. */
export function quotedCodes(relativeFile: string, text: string): string[] {
  const found: string[] = [];
  for (const line of text.split('\n')) {
    const code = line.trimStart();
    if (code.startsWith('//') || code.startsWith('*') || code.startsWith('/*')) continue;
    for (const match of code.matchAll(QUOTED_CODE)) found.push(`${relativeFile}:${match[1] ?? ''}`);
  }
  return found;
}

describe('error code tables', () => {
  it('are frozen, well-formed, and no code is in two tables', async () => {
    const tables = await loadCodeTables();
    // One table per package that raises codes: a table lost in a move would drop out silently.
    expect(tables.map((table) => table.name).sort()).toEqual(
      expect.arrayContaining(['AuthErrorCode', 'ColumnarErrorCode', 'ConfigErrorCode', 'ProtocolErrorCode', 'QueryErrorCode', 'ServerErrorCode', 'SharedErrorCode', 'WalErrorCode', 'WriterErrorCode']),
    );
    const owners = new Map<string, string>();
    for (const { file, name, table } of tables) {
      expect(Object.isFrozen(table), `${name} in ${file} is frozen`).toBe(true);
      for (const [key, code] of Object.entries(table)) {
        expect(code, `${name}.${key}`).toMatch(CODE_PATTERN);
        const owner = owners.get(code as string);
        expect(owner, `${String(code)} is in ${owner ?? ''} and in ${name}`).toBeUndefined();
        owners.set(code as string, name);
      }
    }
    expect(owners.size).toBeGreaterThan(100);
  });

  it('are the only source files that spell a code', () => {
    const stray = packageSources()
      .filter((file) => !CODE_TABLE_FILE.test(path.basename(file)))
      .flatMap((file) => quotedCodes(path.relative(PACKAGES_DIR, file), readFileSync(file, 'utf8')))
      .filter((found) => !NOT_CODES.has(found));
    expect(stray).toEqual([]);
  });

  it('the scan finds a quoted code in code and skips one in a comment', () => {
    const text = ["  // a comment naming 'ARC_IN_A_COMMENT'", "  return badRequest('ARC_STRAY', `x`);", '  const y = "ARC_DOUBLE";'].join('\n');
    expect(quotedCodes('x/src/y.ts', text)).toEqual(['x/src/y.ts:ARC_STRAY', 'x/src/y.ts:ARC_DOUBLE']);
  });
});
