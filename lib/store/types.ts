/**
 * The state store: a small key-value interface with revisions, shaped so that both the embedded
 * local store and etcd implement it natively. Keys are '/'-separated paths; values are strings
 * (JSON documents in practice). Every backend must pass test/store/conformance.ts.
 */

export interface StoredValue {
  readonly key: string;
  readonly value: string;
  /** Opaque, changes on every write of this key (etcd: mod_revision as a decimal string). */
  readonly revision: string;
}

/** A condition a transaction checks before applying its writes (all-or-nothing). */
export type Compare =
  | { readonly key: string; readonly absent: true }
  | { readonly key: string; readonly revision: string };

export type WriteOp =
  | { readonly op: 'put'; readonly key: string; readonly value: string }
  | { readonly op: 'delete'; readonly key: string };

export type WatchEvent =
  | { readonly type: 'put'; readonly key: string; readonly value: string; readonly revision: string }
  | { readonly type: 'delete'; readonly key: string };

export interface Store {
  get(key: string): Promise<StoredValue | undefined>;
  /** All keys starting with prefix, sorted by key. */
  list(prefix: string): Promise<StoredValue[]>;
  /**
   * Applies every op if every compare holds; otherwise applies nothing and returns false.
   * Deleting an absent key is not an error.
   */
  commit(compares: readonly Compare[], ops: readonly WriteOp[]): Promise<boolean>;
  /**
   * Runs fn while holding a named lock that excludes every other process using this store
   * (CLI, CNI plugin processes, agents). Locks are not re-entrant.
   */
  withLock<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /** Calls onEvent for changes under prefix until the returned function is called. */
  watch(prefix: string, onEvent: (event: WatchEvent) => void): Promise<() => void>;
  /**
   * Writes key for as long as this process keeps a lease of ttlSeconds alive: the store deletes it
   * once the lease expires (the holder died or lost the store), which is how other hosts learn
   * that a host is gone. onLost is called when the lease could not be kept. Only stores shared
   * between hosts have it; close() stops refreshing without deleting the key.
   */
  putLeased?(key: string, value: string, ttlSeconds: number, onLost: (e: Error) => void): Promise<LeasedKey>;
  close(): Promise<void>;
}

export interface LeasedKey {
  /** Stops keeping the lease alive; the key stays until the lease runs out. */
  close(): Promise<void>;
}
