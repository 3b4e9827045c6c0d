/**
 * The control plane's key-value core: every record the server keeps (releases, deployments,
 * rollouts, hosts and their desired state, locks) is a key here. It has what a fleet needs and a
 * plain table lacks: a global revision that every write advances (optimistic concurrency through
 * compare-and-swap), watches that resume from a revision (an agent or a second server catches up
 * without re-reading everything), and leases (a key that disappears when its owner stops renewing
 * it: locks, "one host at a time", host liveness).
 *
 * The semantics are etcd's, so the etcd driver is a thin mapping and the SQLite driver (the
 * embedded default) implements the same contract; `contract.ts` beside this file is the one test
 * suite both pass. Keys and values are strings (values are JSON written by the typed collections
 * built on top); keys are `/`-separated paths, and prefixes end with `/`.
 */
export interface KvStore {
  /** The store's revision now: the revision of its last write (0 for a new store). */
  revision(): Promise<number>;
  get(key: string): Promise<KvEntry | undefined>;
  /** Every key under `prefix`, in key order, with the revision they were read at. */
  range(prefix: string, options?: { limit?: number }): Promise<KvRange>;
  /**
   * Atomically: when every compare holds, applies `success` (else `failure`, default none) as one
   * write with one new revision. Nothing changes when the chosen branch is empty.
   */
  txn(txn: KvTxn): Promise<KvTxnResult>;
  /** Puts unconditionally; resolves with the new revision. */
  put(key: string, value: string, options?: { lease?: LeaseId }): Promise<number>;
  /** Deletes the key (or nothing); resolves with the revision after it. */
  delete(key: string): Promise<number>;
  /**
   * Calls `listener` with every change under `prefix` after `fromRevision` (exclusive), in revision
   * order, batched per revision, starting with the history the store still has. When that history
   * was compacted past `fromRevision`, `onError` gets FERRY_E_STORE_COMPACTED and the watch ends: the
   * watcher re-reads with range() and watches again from that revision.
   */
  watch(
    prefix: string,
    fromRevision: number,
    listener: KvListener,
    onError?: (error: Error) => void,
  ): KvWatch;
  /** A lease that expires `ttlMs` after its last renewal (drivers may round up to whole seconds). */
  grantLease(ttlMs: number): Promise<Lease>;
  /** Renews the lease; false when it already expired (its keys are gone). */
  keepAlive(id: LeaseId): Promise<boolean>;
  /** Ends the lease at once and deletes its keys (a no-op for an unknown or expired lease). */
  revokeLease(id: LeaseId): Promise<void>;
  close(): Promise<void>;
}

export type LeaseId = string;

export interface Lease {
  readonly id: LeaseId;
  readonly ttlMs: number;
}

export interface KvEntry {
  readonly key: string;
  readonly value: string;
  /** The revision that created the key (since its last deletion). */
  readonly createRevision: number;
  /** The revision of the key's last write: what a compare-and-swap compares. */
  readonly modRevision: number;
  /** Writes since creation (1 after the first put). */
  readonly version: number;
  readonly lease?: LeaseId;
}

export interface KvRange {
  readonly entries: readonly KvEntry[];
  /** The store's revision the range was read at: watch from here to miss nothing. */
  readonly revision: number;
}

/**
 * A condition on one key. `modRevision: 0` means "the key does not exist"; a value compare on a
 * missing key fails.
 */
export type KvCompare =
  { readonly key: string; readonly modRevision: number } | { readonly key: string; readonly value: string };

export type KvOp =
  | { readonly type: 'put'; readonly key: string; readonly value: string; readonly lease?: LeaseId }
  | { readonly type: 'delete'; readonly key: string }
  | { readonly type: 'delete-prefix'; readonly prefix: string };

export interface KvTxn {
  readonly compare: readonly KvCompare[];
  readonly success: readonly KvOp[];
  readonly failure?: readonly KvOp[];
}

export interface KvTxnResult {
  readonly succeeded: boolean;
  /** The store's revision after the transaction (unchanged when nothing was written). */
  readonly revision: number;
}

export interface KvEvent {
  readonly type: 'put' | 'delete';
  readonly key: string;
  /** The new value (a put); absent for a delete. */
  readonly value?: string;
  readonly modRevision: number;
  /** A delete caused by a lease's expiry or revocation, not by a write. */
  readonly expired?: boolean;
}

export type KvListener = (events: readonly KvEvent[], revision: number) => void;

export interface KvWatch {
  cancel(): void;
}
