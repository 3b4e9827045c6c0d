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
 * built on top); keys are `/`-separated paths, and prefixes end with `/`. Keys are compared and
 * ordered as their UTF-8 bytes (as etcd does); a key is any non-empty well-formed string.
 *
 * Revisions: a new store starts at its driver's base (0 for SQLite, 1 for a fresh etcd; an etcd
 * shared with other installations is wherever it is), and every write that changes something
 * advances it by exactly one: a put, a delete of an existing key, a transaction whose writes change
 * something (all of them at one revision), a lease's expiry or revocation that deletes keys (all of
 * them at one revision). Reads, failed compares and deletes of absent keys do not. A request the store
 * refuses (an empty key, two writes to one key in a transaction) fails with
 * FERRY_E_STORE_REQUEST_INVALID and changes nothing; an etcd that cannot be reached fails calls with
 * FERRY_E_STORE_UNREACHABLE, and then the write may or may not have happened (read to find out).
 */
export interface KvStore {
  /** The store's revision now: the revision of its last write (the driver's base for a new store). */
  revision(): Promise<number>;
  get(key: string): Promise<KvEntry | undefined>;
  /** Every key under `prefix`, in key order, with the revision they were read at. */
  range(prefix: string, options?: { limit?: number }): Promise<KvRange>;
  /**
   * Atomically: when every compare holds, applies `success` (else `failure`, default none) as one
   * write with one new revision. Nothing changes when the chosen branch is empty.
   */
  txn(txn: KvTxn): Promise<KvTxnResult>;
  /**
   * Puts unconditionally; resolves with the new revision. Without `lease`, a key that had one is
   * detached from it (as etcd does). An unknown or expired lease fails with FERRY_E_STORE_LEASE_EXPIRED.
   */
  put(key: string, value: string, options?: { lease?: LeaseId }): Promise<number>;
  /** Deletes the key (or nothing); resolves with the revision after it. */
  delete(key: string): Promise<number>;
  /**
   * Calls `listener` with every change under `prefix` after `fromRevision` (exclusive), in revision
   * order, batched per revision, starting with the history the store still has. When that history
   * was compacted past `fromRevision`, `onError` gets FERRY_E_STORE_COMPACTED and the watch ends: the
   * watcher re-reads with range() and watches again from that revision. A listener is called
   * asynchronously, after the write it reports committed, one call at a time; one that throws ends
   * its watch and its error goes to `onError`. No call follows cancel(). A connection lost to etcd is
   * not an error: the watch resumes from the last revision it delivered once etcd answers again.
   */
  watch(
    prefix: string,
    fromRevision: number,
    listener: KvListener,
    onError?: (error: Error) => void,
  ): KvWatch;
  /**
   * A lease that expires `ttlMs` after its last renewal (etcd rounds up to whole seconds, with a floor
   * of its own; the granted TTL is in the result). Its id is a decimal string.
   */
  grantLease(ttlMs: number): Promise<Lease>;
  /** Renews the lease; false when it already expired (its keys are gone). */
  keepAlive(id: LeaseId): Promise<boolean>;
  /** Ends the lease at once and deletes its keys (a no-op for an unknown or expired lease). */
  revokeLease(id: LeaseId): Promise<void>;
  /**
   * Forgets the history before `revision` (the current values stay): a watch that needs it
   * (fromRevision < revision - 1) fails with FERRY_E_STORE_COMPACTED. On etcd this compacts the whole cluster's history, every
   * installation's. A revision already compacted is a no-op; one after the current revision fails
   * with FERRY_E_STORE_REQUEST_INVALID.
   */
  compact(revision: number): Promise<void>;
  /** Stops the store's timers and watches and releases its connection or file. Closing twice is harmless. */
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
 * missing key fails. All compares must hold for the success branch.
 */
export type KvCompare =
  { readonly key: string; readonly modRevision: number } | { readonly key: string; readonly value: string };

export type KvOp =
  | { readonly type: 'put'; readonly key: string; readonly value: string; readonly lease?: LeaseId }
  | { readonly type: 'delete'; readonly key: string }
  | { readonly type: 'delete-prefix'; readonly prefix: string };

/**
 * A transaction. A branch may not write one key twice (two puts, or a put under a delete): etcd
 * refuses that, and so does every driver, with FERRY_E_STORE_REQUEST_INVALID.
 */
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
  /**
   * A delete caused by a lease's expiry or revocation, not by a write. etcd does not record the cause:
   * its driver sets this for a delete of a key whose lease no longer exists when the event is
   * delivered (so an explicit delete of a leased key, replayed after its lease ended, reads as expired).
   */
  readonly expired?: boolean;
}

export type KvListener = (events: readonly KvEvent[], revision: number) => void;

export interface KvWatch {
  cancel(): void;
}
