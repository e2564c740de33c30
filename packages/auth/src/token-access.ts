import type { TokenStore } from './token-store.js';

/**
 * The token table as the server's routes and `arc token` use it: reads from this node's copy,
 * changes through `change`. On local disk the copy is the table (LocalTokenAccess); with an
 * object store the server shares one table between nodes through the bucket (its token sync).
 */
export interface TokenAccess {
  /** This node's table: what verification, listings and lookups read. */
  readonly store: TokenStore;
  /**
   * Runs `apply` against the table every node uses and makes its outcome this node's table.
   * `apply` may run more than once (another node wrote first), so it must not hash or wait:
   * prepare first (TokenStore.prepareCreate, prepareRotation). Rejects with the ArcError that
   * `apply` threw (nothing changed), or a 503 when a shared table cannot be reached.
   */
  change<T>(apply: (store: TokenStore) => T): Promise<T>;
  /** Calls `onChange` whenever another node's change reached this node's table (after start). */
  follow(onChange: () => void): void;
  close(): Promise<void>;
}

/** Local disk: arc.db is the table; a change is one SQLite write. */
export class LocalTokenAccess implements TokenAccess {
  readonly store: TokenStore;

  constructor(store: TokenStore) {
    this.store = store;
  }

  change<T>(apply: (store: TokenStore) => T): Promise<T> {
    return Promise.resolve().then(() => apply(this.store));
  }

  follow(): void {
    // Nothing to follow: no other node writes this table.
  }

  close(): Promise<void> {
    this.store.close();
    return Promise.resolve();
  }
}
