import Database from 'better-sqlite3';
import { type Clock, systemClock } from '../../lib/clock.js';
import type { ProcessLock } from '../../lib/process-lock.js';
import { storeClosed, toStoreError } from '../sqlite/errors.js';
import { assertIntact, openError } from '../sqlite/integrity.js';
import { migrate } from '../sqlite/migrations.js';
import {
  assertKey,
  assertLeaseId,
  assertLimit,
  assertPrefix,
  assertRevision,
  assertTtl,
  assertTxn,
  assertValue,
} from './assert-request.js';
import { invalidRequest, leaseExpired } from './errors.js';
import { keyBytes, prefixEnd } from './key-range.js';
import type {
  KvEntry,
  KvListener,
  KvOp,
  KvRange,
  KvStore,
  KvTxn,
  KvTxnResult,
  KvWatch,
  Lease,
  LeaseId,
} from './kv.js';
import { ExpiryTimer } from './sqlite/expiry-timer.js';
import { RevisionWriter } from './sqlite/revision-writer.js';
import { KV_MIGRATIONS } from './sqlite/schema.js';
import { type KeyRow, type KvStatements, prepareKvStatements } from './sqlite/statements.js';
import { SqliteWatch } from './sqlite/watch.js';
import { takeWriterLock } from './sqlite/writer-lock.js';
import { WatchDelivery } from './watch-delivery.js';

export interface SqliteKvOptions {
  /** Drives lease expiry (default: the system clock). */
  readonly clock?: Clock;
  /**
   * How much history watches can replay: at least this many of the last revisions (default 10,000).
   * Older history is compacted away, a tenth of this at a time.
   */
  readonly historyRevisions?: number;
}

export const DEFAULT_HISTORY_REVISIONS = 10_000;

/** How long a writer waits for another connection's lock before failing with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5_000;
/** What to do about a damaged key-value store file. */
const KV_RECOVERY =
  'Restore it from a backup; or move it aside (with {path}-wal and {path}-shm if present) and start ' +
  'again: where apps still run, ferry up then offers ferry up --adopt to rebuild the records from what runs';

/**
 * Opens (creating if needed) the SQLite key-value store at `path`, or an in-memory one for
 * ':memory:': WAL with synchronous=FULL (a write that returned survives a power loss), an integrity
 * check, and its schema brought up to date. One process writes a store file: a second that opens it
 * fails with FERRY_E_STORE naming the holder (several servers share an etcd, not a file). Leases
 * still live are renewed for a full TTL, as etcd does when a new leader takes over: their owners
 * could not renew them while the store was closed.
 */
export async function openSqliteKvStore(path: string, options: SqliteKvOptions = {}): Promise<SqliteKvStore> {
  const historyRevisions = options.historyRevisions ?? DEFAULT_HISTORY_REVISIONS;
  if (!Number.isSafeInteger(historyRevisions) || historyRevisions < 1) {
    throw invalidRequest('historyRevisions', 'an integer of 1 or more', String(historyRevisions));
  }
  const lock = path === ':memory:' ? undefined : await takeWriterLock(path);
  let db: Database.Database | undefined;
  try {
    db = new Database(path);
    db.pragma('journal_mode = WAL');
    // As ferry.db: the server acts on a write as soon as it returns (agents are told, leases
    // granted), so a write must not be lost to a power cut after it returned.
    db.pragma('synchronous = FULL');
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma('foreign_keys = ON');
    assertIntact(db, path, KV_RECOVERY);
    migrate(db, path, KV_MIGRATIONS);
    return new SqliteKvStore(db, path, options.clock ?? systemClock, historyRevisions, lock);
  } catch (error) {
    db?.close();
    await lock?.release();
    throw openError(error, path, KV_RECOVERY);
  }
}

/**
 * The embedded key-value store: one better-sqlite3 connection, every method's work synchronous and
 * so atomic with respect to the others. Watch listeners are called on a later turn of the event loop.
 */
export class SqliteKvStore implements KvStore {
  #lifecycle: 'open' | 'closed' = 'open';
  readonly #db: Database.Database;
  readonly #path: string;
  readonly #sql: KvStatements;
  readonly #clock: Clock;
  readonly #historyRevisions: number;
  readonly #lock: ProcessLock | undefined;
  readonly #watches = new Set<SqliteWatch>();
  readonly #expiry: ExpiryTimer;

  /** Use openSqliteKvStore, which configures and migrates the connection first. */
  constructor(
    db: Database.Database,
    path: string,
    clock: Clock,
    historyRevisions: number,
    lock: ProcessLock | undefined,
  ) {
    this.#db = db;
    this.#path = path;
    this.#sql = prepareKvStatements(db);
    this.#clock = clock;
    this.#historyRevisions = historyRevisions;
    this.#lock = lock;
    this.#expiry = new ExpiryTimer(clock, () => this.#write('expire leases', () => undefined));
    this.#db.transaction(() => this.#sql.renewAllLeases.run({ now: clock.now() })).immediate();
    this.#scheduleSweep();
  }

  revision(): Promise<number> {
    return this.#run('read the revision', () => this.#meta().revision);
  }

  get(key: string): Promise<KvEntry | undefined> {
    return this.#run('get a key', () => {
      assertKey(key);
      const row = this.#sql.getKey.get({ key: keyBytes(key) });
      return row && toEntry(row);
    });
  }

  range(prefix: string, options: { limit?: number } = {}): Promise<KvRange> {
    return this.#run('read a range', () => {
      assertPrefix(prefix);
      assertLimit(options.limit);
      const low = keyBytes(prefix);
      const high = prefixEnd(low);
      const limit = options.limit ?? -1;
      const rows =
        high === undefined
          ? this.#sql.rangeToEnd.all({ low, limit })
          : this.#sql.range.all({ low, high, limit });
      return { entries: rows.map(toEntry), revision: this.#meta().revision };
    });
  }

  txn(txn: KvTxn): Promise<KvTxnResult> {
    return this.#write('apply a transaction', () => {
      assertTxn(txn);
      const succeeded = txn.compare.every((compare) => {
        const row = this.#sql.getKey.get({ key: keyBytes(compare.key) });
        return 'modRevision' in compare
          ? (row?.mod_revision ?? 0) === compare.modRevision
          : row !== undefined && row.value === compare.value;
      });
      const revision = this.#apply(succeeded ? txn.success : (txn.failure ?? []));
      return { succeeded, revision };
    });
  }

  put(key: string, value: string, options: { lease?: LeaseId } = {}): Promise<number> {
    return this.#write('put a key', () => {
      assertKey(key);
      assertValue(value);
      if (options.lease !== undefined) assertLeaseId(options.lease, `put ${JSON.stringify(key)}`);
      return this.#apply([
        { type: 'put', key, value, ...(options.lease === undefined ? {} : { lease: options.lease }) },
      ]);
    });
  }

  delete(key: string): Promise<number> {
    return this.#write('delete a key', () => {
      assertKey(key);
      return this.#apply([{ type: 'delete', key }]);
    });
  }

  watch(
    prefix: string,
    fromRevision: number,
    listener: KvListener,
    onError?: (error: Error) => void,
  ): KvWatch {
    if (this.#lifecycle !== 'open') throw storeClosed(this.#path, 'watch');
    assertPrefix(prefix);
    assertRevision(fromRevision, 'fromRevision');
    const low = keyBytes(prefix);
    const high = prefixEnd(low);
    const source = {
      position: () => {
        const meta = this.#meta();
        return { revision: meta.revision, compacted: meta.compacted };
      },
      history: (after: number, upTo: number) =>
        high === undefined
          ? this.#sql.historyToEnd.all({ low, after, upTo })
          : this.#sql.history.all({ low, high, after, upTo }),
    };
    const watch = new SqliteWatch(source, fromRevision, new WatchDelivery(listener, onError), (ended) =>
      this.#watches.delete(ended),
    );
    this.#watches.add(watch);
    return watch;
  }

  grantLease(ttlMs: number): Promise<Lease> {
    return this.#write('grant a lease', () => {
      assertTtl(ttlMs);
      const ttl = Math.ceil(ttlMs);
      const id = this.#meta().last_lease + 1;
      this.#sql.setLastLease.run({ id });
      this.#sql.addLease.run({ id, ttl_ms: ttl, expires_at: this.#clock.now() + ttl });
      return { id: String(id), ttlMs: ttl };
    });
  }

  keepAlive(id: LeaseId): Promise<boolean> {
    // A lease past its expiry was just ended by #write, whatever the sweep timer's lateness.
    return this.#write('renew a lease', () => {
      const lease = parseLeaseId(id);
      return (
        lease !== undefined && this.#sql.renewLease.run({ id: lease, now: this.#clock.now() }).changes > 0
      );
    });
  }

  revokeLease(id: LeaseId): Promise<void> {
    return this.#write('revoke a lease', () => {
      const lease = parseLeaseId(id);
      if (lease !== undefined) this.#endLease(lease);
    });
  }

  compact(revision: number): Promise<void> {
    return this.#write('compact the history', () => {
      assertRevision(revision, 'revision');
      const meta = this.#meta();
      if (revision > meta.revision) {
        throw invalidRequest(
          'revision',
          `a revision up to the current one (${meta.revision})`,
          String(revision),
        );
      }
      this.#forgetHistoryBefore(revision);
    });
  }

  /** Ends every watch and the lease timer, and closes the connection. Closing twice is harmless. */
  async close(): Promise<void> {
    if (this.#lifecycle === 'closed') return;
    this.#lifecycle = 'closed';
    for (const watch of [...this.#watches]) watch.cancel();
    this.#expiry.stop();
    try {
      this.#db.close();
    } finally {
      await this.#lock?.release();
    }
  }

  #meta() {
    const meta = this.#sql.meta.get();
    if (meta === undefined) throw new Error('kv_meta has no row');
    return meta;
  }

  /**
   * Applies a branch's ops as one revision; the store's revision after. A put's lease must be live:
   * the whole branch fails otherwise, as in etcd.
   */
  #apply(ops: readonly KvOp[]): number {
    for (const op of ops) {
      if (op.type === 'put' && op.lease !== undefined && this.#liveLease(op.lease) === undefined) {
        throw leaseExpired(op.lease, `put ${JSON.stringify(op.key)}`);
      }
    }
    const writer = new RevisionWriter(this.#sql, this.#meta().revision + 1);
    for (const op of ops) {
      if (op.type === 'put')
        writer.put(op.key, op.value, op.lease === undefined ? null : (this.#liveLease(op.lease) ?? null));
      else if (op.type === 'delete') writer.delete(op.key);
      else writer.deletePrefix(op.prefix);
    }
    return writer.commit();
  }

  #liveLease(id: LeaseId): number | undefined {
    const lease = parseLeaseId(id);
    return lease !== undefined && this.#sql.getLease.get({ id: lease }) !== undefined ? lease : undefined;
  }

  /** Deletes a lease and its keys, the keys at one revision with `expired` events. */
  #endLease(id: number): void {
    const writer = new RevisionWriter(this.#sql, this.#meta().revision + 1);
    for (const { key } of this.#sql.keysOfLease.all({ lease: id })) writer.delete(key, true);
    writer.commit();
    this.#sql.deleteLease.run({ id });
  }

  /** Ends every lease whose expiry has come, each at its own revision, earliest first. */
  #expireDueLeases(): void {
    for (const { id } of this.#sql.dueLeases.all({ now: this.#clock.now() })) this.#endLease(id);
  }

  #forgetHistoryBefore(revision: number): void {
    if (revision <= this.#meta().compacted) return;
    this.#sql.forgetHistory.run({ before: revision });
    this.#sql.setCompacted.run({ compacted: revision });
  }

  /** Keeps at least historyRevisions of history, compacting a tenth of it at a time. */
  #compactHistory(): void {
    const { revision, compacted } = this.#meta();
    const step = Math.ceil(this.#historyRevisions / 10);
    if (revision - compacted >= this.#historyRevisions + step) {
      this.#forgetHistoryBefore(revision - this.#historyRevisions + 1);
    }
  }

  /**
   * Runs a write in one immediate transaction, after ending the leases whose time has come (so no
   * write acts on a lease or key that should be gone); then tells the watches and re-arms the timer.
   */
  #write<T>(operation: string, work: () => T): Promise<T> {
    return this.#run(operation, () => {
      const before = this.#meta().revision;
      const result = this.#db
        .transaction(() => {
          this.#expireDueLeases();
          const value = work();
          this.#compactHistory();
          return value;
        })
        .immediate();
      if (this.#meta().revision !== before) for (const watch of this.#watches) watch.notify();
      this.#scheduleSweep();
      return result;
    });
  }

  /** Arms the expiry timer for the earliest lease. */
  #scheduleSweep(): void {
    const at = this.#sql.nextExpiry.get()?.at ?? null;
    if (at !== null) this.#expiry.armBy(at);
  }

  /** Runs synchronous work as a promise, with every failure a FerryError. */
  #run<T>(operation: string, work: () => T): Promise<T> {
    try {
      if (this.#lifecycle !== 'open') throw storeClosed(this.#path, operation);
      return Promise.resolve(work());
    } catch (error) {
      return Promise.reject(toStoreError(error, this.#path, operation));
    }
  }
}

/** SQLite's lease ids are positive integers; any other id names no lease. */
function parseLeaseId(id: LeaseId): number | undefined {
  if (typeof id !== 'string' || !/^[1-9][0-9]{0,15}$/.test(id)) return undefined;
  const value = Number(id);
  return Number.isSafeInteger(value) ? value : undefined;
}

function toEntry(row: KeyRow): KvEntry {
  return {
    key: row.key.toString('utf8'),
    value: row.value,
    createRevision: row.create_revision,
    modRevision: row.mod_revision,
    version: row.version,
    ...(row.lease === null ? {} : { lease: String(row.lease) }),
  };
}
