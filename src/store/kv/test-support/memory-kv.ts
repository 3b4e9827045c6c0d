import type {
  KvCompare,
  KvEntry,
  KvOp,
  KvRange,
  KvStore,
  KvTxn,
  KvTxnResult,
  KvWatch,
  Lease,
  LeaseId,
} from '../kv.js';

/**
 * An in-memory KvStore for tests of code built on the key-value core, until the real drivers are
 * merged. Honest where it is implemented (one global revision that every write advances, versions,
 * compare-and-swap on modRevision with 0 = absent, ranges by prefix in key order); watches and
 * leases are not: they throw, so a test that needs them fails loudly instead of passing on a fake.
 */
export class MemoryKv implements KvStore {
  private readonly entries = new Map<string, KvEntry>();
  private current = 0;
  private closed = false;

  revision(): Promise<number> {
    this.checkOpen();
    return Promise.resolve(this.current);
  }

  get(key: string): Promise<KvEntry | undefined> {
    this.checkOpen();
    return Promise.resolve(this.entries.get(key));
  }

  range(prefix: string, options?: { limit?: number }): Promise<KvRange> {
    this.checkOpen();
    const keys = [...this.entries.keys()].filter((key) => key.startsWith(prefix)).sort();
    const limited = options?.limit === undefined ? keys : keys.slice(0, options.limit);
    const entries = limited.map((key) => this.entries.get(key)).filter((e) => e !== undefined);
    return Promise.resolve({ entries, revision: this.current });
  }

  txn(txn: KvTxn): Promise<KvTxnResult> {
    this.checkOpen();
    const succeeded = txn.compare.every((compare) => this.holds(compare));
    const ops = succeeded ? txn.success : (txn.failure ?? []);
    this.apply(ops);
    return Promise.resolve({ succeeded, revision: this.current });
  }

  put(key: string, value: string, options?: { lease?: LeaseId }): Promise<number> {
    if (options?.lease !== undefined) throw new Error('MemoryKv has no leases');
    return this.txn({ compare: [], success: [{ type: 'put', key, value }] }).then((r) => r.revision);
  }

  delete(key: string): Promise<number> {
    return this.txn({ compare: [], success: [{ type: 'delete', key }] }).then((r) => r.revision);
  }

  watch(): KvWatch {
    throw new Error('MemoryKv has no watches');
  }

  grantLease(): Promise<Lease> {
    throw new Error('MemoryKv has no leases');
  }

  keepAlive(): Promise<boolean> {
    throw new Error('MemoryKv has no leases');
  }

  revokeLease(): Promise<void> {
    throw new Error('MemoryKv has no leases');
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  private holds(compare: KvCompare): boolean {
    const entry = this.entries.get(compare.key);
    if ('modRevision' in compare) return (entry?.modRevision ?? 0) === compare.modRevision;
    return entry !== undefined && entry.value === compare.value;
  }

  /** Applies the ops as one write: one new revision, and none when nothing changes. */
  private apply(ops: readonly KvOp[]): void {
    const doomed = (key: string) =>
      ops.some((op) =>
        op.type === 'delete' ? op.key === key : op.type === 'delete-prefix' && key.startsWith(op.prefix),
      );
    const deletes = [...this.entries.keys()].filter(doomed);
    const puts = ops.filter((op) => op.type === 'put');
    if (deletes.length === 0 && puts.length === 0) return;
    if (puts.some((op) => op.lease !== undefined)) throw new Error('MemoryKv has no leases');
    const revision = ++this.current;
    for (const key of deletes) this.entries.delete(key);
    for (const op of puts) {
      const previous = this.entries.get(op.key);
      this.entries.set(op.key, {
        key: op.key,
        value: op.value,
        createRevision: previous?.createRevision ?? revision,
        modRevision: revision,
        version: (previous?.version ?? 0) + 1,
      });
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new Error('MemoryKv is closed');
  }
}
