/**
 * The part of better-sqlite3's API that this package (and the server's data-dir lock, through its
 * tsconfig include) uses. The workspace has no @types package
 * for it, so the surface is declared here; keep it to what the code calls. Nothing from this
 * module appears in the package's public types, so consumers never need these declarations.
 */
declare module 'better-sqlite3' {
  export interface RunResult {
    readonly changes: number;
    readonly lastInsertRowid: number | bigint;
  }

  export interface Statement {
    run(...params: readonly unknown[]): RunResult;
    get(...params: readonly unknown[]): unknown;
    all(...params: readonly unknown[]): unknown[];
  }

  export interface Transaction<F extends (...args: never[]) => unknown> {
    (...args: Parameters<F>): ReturnType<F>;
    /** BEGIN IMMEDIATE: takes the write lock at the start, so a read-then-write cannot race. */
    immediate(...args: Parameters<F>): ReturnType<F>;
  }

  export interface Options {
    readonly readonly?: boolean;
    readonly fileMustExist?: boolean;
    /** Milliseconds to wait for a lock held by another connection before SQLITE_BUSY. */
    readonly timeout?: number;
  }

  interface Database {
    readonly open: boolean;
    readonly name: string;
    prepare(source: string): Statement;
    exec(source: string): this;
    pragma(source: string, options?: { readonly simple?: boolean }): unknown;
    transaction<F extends (...args: never[]) => unknown>(fn: F): Transaction<F>;
    close(): this;
  }

  const Database: new (filename: string, options?: Options) => Database;
  export default Database;
}
