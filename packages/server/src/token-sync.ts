import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalTokenAccess, TokenStore, decodeTokenTable, encodeTokenTable, type SharedTokenTable, type TokenAccess } from '@arc/auth';
import type { Config } from '@arc/config';
import { ArcError, ErrorKind } from '@arc/errors';
import { openStorageBackend, type StorageBackend } from '@arc/storage';
import { ServerErrorCode } from './error-codes.js';
import { TOKEN_TABLE_RETRY_BACKOFF_MS, TOKEN_TABLE_WRITE_ATTEMPTS_MAX } from './limits.js';
import type { Logger } from './log.js';

/**
 * Where tokens live (docs/scale-out.md, "Tokens across nodes").
 *
 * On local disk the node's arc.db is the token table, as it always was. With an object store,
 * several nodes share one bucket, so the table every node trusts is one object in it,
 * TOKEN_TABLE_KEY (token-table.ts in @arc/auth: hashes, never token text), and each node's arc.db
 * is a copy that verification reads:
 *
 *   change on any node:  read object + version -> apply the change to a scratch copy
 *                        -> write only if still at that version (else read again, retry)
 *                        -> replace this node's copy, forget cached verifications
 *   every node:          every storage.listing_refresh_s, read the object; when it changed,
 *                        replace the copy and forget cached verifications
 *
 * So a token created or revoked on one node holds on every other within one refresh interval
 * plus one read of the object. Last use (`last_used_at`) stays per node: not worth a write to the
 * bucket per request.
 */

/** A key no database can take: database names start with a letter (names.ts in @arc/columnar). */
export const TOKEN_TABLE_KEY = '.arc/tokens.json';

/** What the sync needs of the object store (a StorageBackend has it; tests pass a local one). */
export type TokenTableObjects = Pick<StorageBackend, 'getVersioned' | 'putIfAbsent' | 'putIfVersion'>;

interface ReadTable {
  readonly table: SharedTokenTable;
  readonly bytes: Uint8Array;
  /** Null for a table this node just wrote (its version is learnt at the next read). */
  readonly version: string | null;
}

export interface SharedTokensOptions {
  /** How often the object is read for other nodes' changes (storage.listing_refresh_s). */
  readonly refreshMs: number;
  readonly log: Logger;
  /** Clock for expiry checks of a change; tests pass their own. */
  readonly now?: () => number;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The token table shared through the object store (see the top of this file). */
export class SharedTokens implements TokenAccess {
  readonly store: TokenStore;
  readonly #objects: TokenTableObjects;
  readonly #refreshMs: number;
  readonly #log: Logger;
  readonly #now: () => number;
  /** The object's bytes and version as this node's table holds them. */
  #installed: ReadTable | null = null;
  /** Reads and writes of the object, one at a time: a slower one must not install an older table over a newer. */
  #tail: Promise<unknown> = Promise.resolve();
  #timer: NodeJS.Timeout | null = null;
  #onChange: () => void = () => undefined;
  #closed = false;
  #pollFailing = false;

  constructor(store: TokenStore, objects: TokenTableObjects, options: SharedTokensOptions) {
    assert.ok(options.refreshMs > 0, 'a refresh interval');
    this.store = store;
    this.#objects = objects;
    this.#refreshMs = options.refreshMs;
    this.#log = options.log;
    this.#now = options.now ?? Date.now;
  }

  /** The revision this node's table holds (0 before the first read). */
  get revision(): number {
    return this.#installed?.table.revision ?? 0;
  }

  /**
   * At start: adopts the shared table when there is one (then this node creates no bootstrap
   * token), else writes this node's table to the bucket, with the bootstrap token
   * `ensureBootstrapToken` creates when it is empty. Returns that token when it was created now
   * and this node's table became the shared one (so the caller prints it once).
   */
  async join(presetToken: string): Promise<{ created: boolean; token: string | null }> {
    const existing = await this.#read();
    if (existing !== null) return this.#adopt(existing, presetToken);
    const bootstrap = this.store.ensureBootstrapToken(presetToken);
    const table: SharedTokenTable = { revision: 1, ...this.store.exportTable() };
    const bytes = encodeTokenTable(table);
    let written: ReadTable | null = null;
    if (!(await this.#write(bytes, null))) {
      // Another node wrote the first table between the read and the write: its table wins,
      // unless the table there is this very write, refused after landing (see #changeShared).
      written = await this.#read();
      if (written === null) throw this.#unavailable('read', new Error(`${TOKEN_TABLE_KEY} vanished right after another node wrote it`));
      if (!sameBytes(written.bytes, bytes)) return this.#adopt(written, presetToken);
    }
    this.#install(written ?? { table, bytes, version: null });
    this.#log.info(`tokens: shared through the object store; wrote this node's ${table.tokens.length} token(s) to ${TOKEN_TABLE_KEY} (revision 1)`);
    return bootstrap;
  }

  async #adopt(existing: ReadTable, presetToken: string): Promise<{ created: false; token: null }> {
    const { revision, tokens } = existing.table;
    // Tokens of this node's arc.db the shared table lacks (a node that ran alone before): said once, as they stop working here.
    const shared = new Set(tokens.map((token) => token.hash));
    const dropped = this.store.exportTable().tokens.filter((token) => !shared.has(token.hash)).length;
    this.#install(existing);
    const droppedNote = dropped === 0 ? '' : `; ${dropped} token(s) of this node's own arc.db are not in it and no longer work`;
    this.#log.info(`tokens: adopted the shared token table ${TOKEN_TABLE_KEY} (revision ${revision}, ${tokens.length} token(s)); no bootstrap token created on this node${droppedNote}`);
    if (presetToken !== '' && (await this.store.verify(presetToken)) === null) {
      this.#log.warn(`tokens: auth.bootstrap_token (ARC_AUTH_BOOTSTRAP_TOKEN) is not a valid token of the shared table, so it does not work on this node (the first node's bootstrap token does)`);
    }
    return { created: false, token: null };
  }

  change<T>(apply: (store: TokenStore) => T): Promise<T> {
    return this.#serialized(() => this.#changeShared(apply));
  }

  /** Reads the object once and installs it if it changed; true when this node's table changed. */
  refresh(): Promise<boolean> {
    return this.#serialized(() => this.#refreshNow());
  }

  follow(onChange: () => void): void {
    this.#onChange = onChange;
    this.#schedulePoll();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    await this.#tail;
    this.store.close();
  }

  #serialized<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(task, task);
    this.#tail = run.catch(() => undefined);
    return run;
  }

  async #changeShared<T>(apply: (store: TokenStore) => T): Promise<T> {
    let refused: { readonly bytes: Uint8Array; readonly result: T } | null = null;
    for (let attempt = 1; attempt <= TOKEN_TABLE_WRITE_ATTEMPTS_MAX; attempt += 1) {
      const current = await this.#read();
      // A write refused after a retry may be this very write, landed before an error answer (Ceph
      // RGW answers 500 to one of several racing writes): it is ours exactly when it holds our bytes.
      if (refused !== null && current !== null && sameBytes(current.bytes, refused.bytes)) {
        this.#install(current);
        return refused.result;
      }
      const { result, next } = this.#applied(current, apply);
      if (next === null) {
        // Nothing to write (a token not found, a patch that changes nothing): the fresh read is still news.
        if (current !== null) this.#install(current);
        return result;
      }
      const bytes = encodeTokenTable(next);
      if (await this.#write(bytes, current?.version ?? null)) {
        this.#install({ table: next, bytes, version: null });
        return result;
      }
      refused = { bytes, result };
      await sleep(Math.random() * TOKEN_TABLE_RETRY_BACKOFF_MS * attempt);
    }
    // The last refused write may have landed too.
    const last = await this.#read();
    if (refused !== null && last !== null && sameBytes(last.bytes, refused.bytes)) {
      this.#install(last);
      return refused.result;
    }
    throw new ArcError(
      ErrorKind.unavailable,
      ServerErrorCode.tokenTableBusy,
      `Token change not made: other nodes changed the shared token table ${TOKEN_TABLE_KEY} first ${TOKEN_TABLE_WRITE_ATTEMPTS_MAX} times in a row; retry`,
    );
  }

  /**
   * Applies the change to a scratch copy of the shared table (this node's own table when the
   * object is missing: then this node writes it again). `next` is null when nothing changed.
   */
  #applied<T>(current: ReadTable | null, apply: (store: TokenStore) => T): { result: T; next: SharedTokenTable | null } {
    const base: SharedTokenTable = current?.table ?? { revision: this.revision, ...this.store.exportTable() };
    const scratch = TokenStore.open(':memory:', { now: this.#now });
    try {
      scratch.replaceTable(base);
      const before = JSON.stringify(scratch.exportTable());
      const result = apply(scratch);
      const after = scratch.exportTable();
      return { result, next: JSON.stringify(after) === before ? null : { revision: base.revision + 1, ...after } };
    } finally {
      scratch.close();
    }
  }

  async #refreshNow(): Promise<boolean> {
    const current = await this.#read();
    // No object (removed by hand): this node keeps its table, and its next change writes it again.
    if (current === null || current.version === this.#installed?.version) return false;
    return this.#install(current);
  }

  /** Makes `read` this node's table; false when it already was (this node's own write, read back). */
  #install(read: ReadTable): boolean {
    const installed = this.#installed;
    this.#installed = read;
    if (installed !== null && sameBytes(installed.bytes, read.bytes)) return false;
    this.store.replaceTable(read.table);
    this.#onChange();
    return true;
  }

  async #read(): Promise<ReadTable | null> {
    let object;
    try {
      object = await this.#objects.getVersioned(TOKEN_TABLE_KEY);
    } catch (error) {
      throw this.#unavailable('read', error);
    }
    if (object === null) return null;
    const table = decodeTokenTable(object.bytes, TOKEN_TABLE_KEY);
    if (table instanceof ArcError) throw table;
    return { table, bytes: object.bytes, version: object.version };
  }

  /** Writes the table if the object is still at `version` (null: still absent); false when another write came first. */
  async #write(bytes: Uint8Array, version: string | null): Promise<boolean> {
    try {
      return version === null ? await this.#objects.putIfAbsent(TOKEN_TABLE_KEY, bytes) : await this.#objects.putIfVersion(TOKEN_TABLE_KEY, bytes, version);
    } catch (error) {
      throw this.#unavailable('write', error);
    }
  }

  #unavailable(step: 'read' | 'write', error: unknown): ArcError {
    // A write that failed may still have landed: then the next read installs it on every node.
    const outcome = step === 'read' ? 'no token was changed' : 'the change is not confirmed (list the tokens to see whether it was made)';
    return new ArcError(ErrorKind.unavailable, ServerErrorCode.tokenTableUnavailable, `The object store holding the shared token table ${TOKEN_TABLE_KEY} could not be reached (${messageOf(error)}); ${outcome}`, {
      key: TOKEN_TABLE_KEY,
    });
  }

  /** The next read after `refreshMs`, counted from the end of the last one, so reads never pile up. */
  #schedulePoll(): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      void this.refresh()
        .then(
          () => this.#pollSucceeded(),
          (error: unknown) => this.#pollFailed(error),
        )
        .finally(() => this.#schedulePoll());
    }, this.#refreshMs);
    this.#timer.unref();
  }

  #pollSucceeded(): void {
    if (!this.#pollFailing) return;
    this.#pollFailing = false;
    this.#log.info(`tokens: ${TOKEN_TABLE_KEY} readable again (revision ${this.revision})`);
  }

  /** Logged once per outage: meanwhile the node keeps its table, and no node can change tokens either. */
  #pollFailed(error: unknown): void {
    if (this.#pollFailing) return;
    this.#pollFailing = true;
    this.#log.warn(`tokens: reading ${TOKEN_TABLE_KEY} failed; keeping revision ${this.revision} until it can be read: ${messageOf(error)}`);
  }
}

function printBootstrap(config: Config, bootstrap: { created: boolean; token: string | null }, printToken: (line: string) => void): void {
  // A preset token is known to whoever set it: never echo it (stdout often ends up in logs).
  if (bootstrap.created && config.auth.bootstrapToken !== '') {
    printToken('Arc bootstrap admin token created from ARC_AUTH_BOOTSTRAP_TOKEN (auth.bootstrap_token); not printed\n');
  } else if (bootstrap.created && bootstrap.token !== null) {
    printToken(`Arc bootstrap admin token (printed once, store it now): ${bootstrap.token}\n`);
  }
}

/**
 * Opens the token table: arc.db alone on local disk, arc.db as a copy of the shared table with an
 * object store (which it joins here: adopts it, or writes the first one). Null when
 * authentication is off.
 */
/** Where the shared table lives, for logs and for `arc token`'s refusal (no secret in it). */
function originOf(config: Config): string {
  const s3 = config.storage.s3;
  assert.ok(s3 !== null, 'only an object store shares the token table');
  return `${config.storage.backend} bucket '${s3.bucket}'${s3.prefix === '' ? '' : ` under prefix '${s3.prefix}'`} (${TOKEN_TABLE_KEY})`;
}

/** Local disk: arc.db is the table, also when it was a copy of a shared one before (then said once). */
function openLocal(store: TokenStore, log: Logger): TokenAccess {
  const origin = store.sharedOrigin();
  if (origin !== null) {
    log.warn(`tokens: arc.db was a copy of the token table shared in the ${origin}; with local storage it is this node's own table now`);
    store.setSharedOrigin(null);
  }
  return new LocalTokenAccess(store);
}

export async function openTokens(config: Config, log: Logger, objects: TokenTableObjects, printToken: (line: string) => void): Promise<TokenAccess | null> {
  if (!config.auth.enabled) {
    log.warn('AUTHENTICATION IS DISABLED (auth.enabled = false): every request, from anyone who can reach the port, is admin. Use only on a trusted machine.');
    return null;
  }
  const store = TokenStore.open(config.storage.metadataPath);
  try {
    if (config.storage.s3 === null) {
      printBootstrap(config, store.ensureBootstrapToken(config.auth.bootstrapToken), printToken);
      return openLocal(store, log);
    }
    const shared = new SharedTokens(store, objects, { refreshMs: config.storage.listingRefreshMs, log });
    printBootstrap(config, await shared.join(config.auth.bootstrapToken), printToken);
    store.setSharedOrigin(originOf(config));
    return shared;
  } catch (error) {
    store.close();
    throw error;
  }
}

/**
 * The token table for `arc token` (another process than the server) with an object store: this
 * node's copy brought up to date from the shared table, changes written there first. It creates
 * no bootstrap token and does not poll.
 */
export async function openSharedTokensForCommand(config: Config, log: Logger): Promise<TokenAccess> {
  const origin = originOf(config);
  const store = TokenStore.open(config.storage.metadataPath);
  const shared = new SharedTokens(store, openStorageBackend(config.storage), { refreshMs: config.storage.listingRefreshMs, log });
  try {
    await shared.refresh();
    store.setSharedOrigin(origin);
  } catch (error) {
    store.close();
    throw error;
  }
  return shared;
}
