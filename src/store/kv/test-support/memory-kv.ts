import { systemClock, type Clock, type TimerHandle } from '../../../lib/clock.js';
import type {
  KvCompare,
  KvEntry,
  KvEvent,
  KvListener,
  KvOp,
  KvRange,
  KvStore,
  KvTxn,
  KvTxnResult,
  KvWatch,
  Lease,
  LeaseId,
} from '../kv.js';

interface Watcher {
  readonly prefix: string;
  readonly listener: KvListener;
  /** The last revision delivered: a batch is delivered once, in order, replayed or live. */
  delivered: number;
  cancelled: boolean;
}

/**
 * A minimal in-memory KvStore for tests of code built on the store (not a driver): one revision
 * counter, the whole history kept (never compacted), watches replayed from it and then fed live,
 * always after the write that caused them resolved (as a real driver's would be), and leases that
 * expire on the given clock. It does not claim to pass the drivers' contract suite; tests move to
 * the real SQLite driver once it exists.
 */
export class MemoryKv implements KvStore {
  private rev = 0;
  private readonly entries = new Map<string, KvEntry>();
  private readonly history: Array<{ events: KvEvent[]; revision: number }> = [];
  private readonly watchers = new Set<Watcher>();
  private readonly leases = new Map<LeaseId, { ttlMs: number; timer: TimerHandle; keys: Set<string> }>();
  private nextLease = 1;
  private closed = false;

  constructor(private readonly clock: Clock = systemClock) {}

  revision(): Promise<number> {
    return this.ready(() => this.rev);
  }

  get(key: string): Promise<KvEntry | undefined> {
    return this.ready(() => this.entries.get(key));
  }

  range(prefix: string, options: { limit?: number } = {}): Promise<KvRange> {
    return this.ready(() => {
      const entries = [...this.entries.values()]
        .filter((entry) => entry.key.startsWith(prefix))
        .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      return { entries: entries.slice(0, options.limit ?? entries.length), revision: this.rev };
    });
  }

  txn(txn: KvTxn): Promise<KvTxnResult> {
    return this.ready(() => {
      const succeeded = txn.compare.every((compare) => this.holds(compare));
      this.write(succeeded ? txn.success : (txn.failure ?? []));
      return { succeeded, revision: this.rev };
    });
  }

  put(key: string, value: string, options: { lease?: LeaseId } = {}): Promise<number> {
    return this.ready(() => {
      this.write([
        { type: 'put', key, value, ...(options.lease !== undefined ? { lease: options.lease } : {}) },
      ]);
      return this.rev;
    });
  }

  delete(key: string): Promise<number> {
    return this.ready(() => {
      this.write([{ type: 'delete', key }]);
      return this.rev;
    });
  }

  watch(prefix: string, fromRevision: number, listener: KvListener): KvWatch {
    const watcher: Watcher = { prefix, listener, delivered: fromRevision, cancelled: false };
    this.watchers.add(watcher);
    queueMicrotask(() => {
      for (const batch of this.history) this.deliver(watcher, batch.events, batch.revision);
    });
    return {
      cancel: () => {
        watcher.cancelled = true;
        this.watchers.delete(watcher);
      },
    };
  }

  grantLease(ttlMs: number): Promise<Lease> {
    return this.ready(() => {
      const id = `lease-${this.nextLease++}`;
      this.leases.set(id, { ttlMs, timer: this.expireLater(id, ttlMs), keys: new Set() });
      return { id, ttlMs };
    });
  }

  keepAlive(id: LeaseId): Promise<boolean> {
    return this.ready(() => {
      const lease = this.leases.get(id);
      if (lease === undefined) return false;
      this.clock.clearTimeout(lease.timer);
      lease.timer = this.expireLater(id, lease.ttlMs);
      return true;
    });
  }

  revokeLease(id: LeaseId): Promise<void> {
    return this.ready(() => this.endLease(id, false));
  }

  /** The double keeps its whole history: there is nothing to compact. */
  compact(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    for (const lease of this.leases.values()) this.clock.clearTimeout(lease.timer);
    this.leases.clear();
    this.watchers.clear();
    this.closed = true;
    return Promise.resolve();
  }

  private ready<T>(read: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new Error('the store is closed'));
    try {
      return Promise.resolve(read());
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private holds(compare: KvCompare): boolean {
    const entry = this.entries.get(compare.key);
    if ('modRevision' in compare) return (entry?.modRevision ?? 0) === compare.modRevision;
    return entry !== undefined && entry.value === compare.value;
  }

  /** Applies ops as one write with one new revision (none when nothing changes). */
  private write(ops: readonly KvOp[], expired = false): void {
    const revision = this.rev + 1;
    const events: KvEvent[] = [];
    for (const op of ops) {
      if (op.type === 'put') {
        const before = this.entries.get(op.key);
        if (op.lease !== undefined && !this.leases.has(op.lease))
          throw new Error(`lease ${op.lease} does not exist`);
        this.forgetLeaseKey(before);
        const entry: KvEntry = {
          key: op.key,
          value: op.value,
          createRevision: before?.createRevision ?? revision,
          modRevision: revision,
          version: (before?.version ?? 0) + 1,
          ...(op.lease !== undefined ? { lease: op.lease } : {}),
        };
        this.entries.set(op.key, entry);
        if (op.lease !== undefined) this.leases.get(op.lease)?.keys.add(op.key);
        events.push({ type: 'put', key: op.key, value: op.value, modRevision: revision });
      } else {
        const keys =
          op.type === 'delete'
            ? [op.key]
            : [...this.entries.keys()].filter((key) => key.startsWith(op.prefix));
        for (const key of keys) {
          const before = this.entries.get(key);
          if (before === undefined) continue;
          this.forgetLeaseKey(before);
          this.entries.delete(key);
          events.push({ type: 'delete', key, modRevision: revision, ...(expired ? { expired } : {}) });
        }
      }
    }
    if (events.length === 0) return;
    this.rev = revision;
    this.history.push({ events, revision });
    const watchers = [...this.watchers];
    queueMicrotask(() => {
      for (const watcher of watchers) this.deliver(watcher, events, revision);
    });
  }

  private deliver(watcher: Watcher, events: readonly KvEvent[], revision: number): void {
    if (watcher.cancelled || revision <= watcher.delivered) return;
    watcher.delivered = revision;
    const mine = events.filter((event) => event.key.startsWith(watcher.prefix));
    if (mine.length > 0) watcher.listener(mine, revision);
  }

  private forgetLeaseKey(entry: KvEntry | undefined): void {
    if (entry?.lease !== undefined) this.leases.get(entry.lease)?.keys.delete(entry.key);
  }

  private expireLater(id: LeaseId, ttlMs: number): TimerHandle {
    return this.clock.setTimeout(() => this.endLease(id, true), ttlMs);
  }

  private endLease(id: LeaseId, expired: boolean): void {
    const lease = this.leases.get(id);
    if (lease === undefined) return;
    this.clock.clearTimeout(lease.timer);
    this.leases.delete(id);
    this.write(
      [...lease.keys].map((key) => ({ type: 'delete', key })),
      expired,
    );
  }
}
