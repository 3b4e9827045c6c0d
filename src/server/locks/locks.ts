import { FerryError } from '../../errors/ferry-error.js';
import type { Clock } from '../../lib/clock.js';
import type { KvEntry, KvStore } from '../../store/kv/kv.js';
import {
  checkReason,
  checkTtl,
  describeTarget,
  LOCKS_PREFIX,
  lockKey,
  parseLock,
  type Lock,
  type LockTarget,
} from './lock.js';
import { lockedError, notLockedError } from './lock-errors.js';

/** What `lock` asks for. */
export interface LockRequest extends LockTarget {
  readonly owner: string;
  readonly reason: string;
  /** Default DEFAULT_LOCK_TTL_MS, at most MAX_LOCK_TTL_MS. */
  readonly ttlMs?: number;
}

/** How often a lock or unlock reads again after another server wrote the key under it. */
const MAX_ATTEMPTS = 5;

/**
 * The locks of environments and apps, kept in the control plane's key-value store: each a key
 * under /locks/ on a lease of the lock's TTL. Writes are compare-and-swap on the key's revision, so
 * two servers (or two requests) taking one lock cannot both succeed: the second reads the first's
 * lock and is refused naming it.
 *
 * A lock holds until `expiresAt` on this server's clock. The lease ends it in the store; a lease can
 * outlive it (SQLite renews live leases for a full TTL when reopened, as etcd does under a new
 * leader), so a lock past its expiry is treated as gone everywhere here and `expireOverdue` ends
 * its lease (LockKeeper calls it at each expiry).
 */
export class Locks {
  constructor(
    private readonly kv: KvStore,
    private readonly clock: Clock,
  ) {}

  /**
   * Takes the lock. A target locked by another owner is refused (FERRY_E_LOCKED naming the lock);
   * one locked by the same owner is replaced (new reason and TTL): that is how a lock is renewed.
   * Bad input (names, reason, TTL) is FERRY_E_USAGE and changes nothing.
   */
  async lock(request: LockRequest): Promise<{ readonly lock: Lock; readonly replaced: Lock | null }> {
    const target = { env: request.env, app: request.app };
    const key = lockKey(target);
    const reason = checkReason(request.reason);
    const ttlMs = checkTtl(request.ttlMs);
    for (let attempt = 1; ; attempt++) {
      const entry = await this.kv.get(key);
      const held = this.liveLock(entry);
      if (held !== null && held.owner !== request.owner)
        throw lockedError(held, `cannot lock ${describeTarget(target)}`, 'wait for it to be released');
      const now = this.clock.now();
      const lock: Lock = { ...target, owner: request.owner, reason, createdAt: now, expiresAt: now + ttlMs };
      const lease = await this.kv.grantLease(ttlMs);
      const written = await this.kv
        .txn({
          compare: [{ key, modRevision: entry?.modRevision ?? 0 }],
          success: [{ type: 'put', key, value: JSON.stringify(lock), lease: lease.id }],
        })
        .catch(async (error: unknown) => {
          await this.kv.revokeLease(lease.id).catch(() => undefined);
          throw error;
        });
      if (written.succeeded) {
        // The key is on the new lease now: ending the old one deletes nothing.
        if (entry?.lease !== undefined) await this.kv.revokeLease(entry.lease);
        return { lock, replaced: held };
      }
      await this.kv.revokeLease(lease.id);
      if (attempt === MAX_ATTEMPTS) throw contended(target, 'lock');
    }
  }

  /**
   * Releases the lock on exactly this target (an environment's lock is not an app's).
   * FERRY_E_LOCK_UNKNOWN when it is not locked, naming the locks that hold in its environment.
   * Whoever may call the API may release any lock: it is the way out of one left behind.
   */
  async unlock(target: LockTarget): Promise<Lock> {
    const key = lockKey(target);
    for (let attempt = 1; ; attempt++) {
      const entry = await this.kv.get(key);
      const held = this.liveLock(entry);
      if (entry === undefined || held === null) {
        const expired = entry === undefined ? null : parseLock(entry);
        if (entry?.lease !== undefined) await this.kv.revokeLease(entry.lease);
        const others = (await this.list()).filter((lock) => lock.env === target.env);
        throw notLockedError(target, expired, others);
      }
      const deleted = await this.kv.txn({
        compare: [{ key, modRevision: entry.modRevision }],
        success: [{ type: 'delete', key }],
      });
      if (deleted.succeeded) {
        if (entry.lease !== undefined) await this.kv.revokeLease(entry.lease);
        return held;
      }
      if (attempt === MAX_ATTEMPTS) throw contended(target, 'unlock');
    }
  }

  /** Every lock that holds now, in key order (an environment's before its apps'). */
  async list(): Promise<Lock[]> {
    const { entries } = await this.kv.range(LOCKS_PREFIX);
    return entries.flatMap((entry) => this.liveLock(entry) ?? []);
  }

  /**
   * The lock that holds `app` in `env` now: the environment's (it covers every app) before the
   * app's own; null when neither holds.
   */
  async holding(app: string, env: string): Promise<Lock | null> {
    for (const target of [
      { env, app: null },
      { env, app },
    ]) {
      const lock = this.liveLock(await this.kv.get(lockKey(target)));
      if (lock !== null) return lock;
    }
    return null;
  }

  /**
   * Ends the leases of locks past their expiry whose keys are still there; returns the earliest
   * expiry of the locks that still hold (null when none does), for the next call.
   */
  async expireOverdue(): Promise<number | null> {
    const { entries } = await this.kv.range(LOCKS_PREFIX);
    let next: number | null = null;
    for (const entry of entries) {
      const lock = parseLock(entry);
      if (lock.expiresAt > this.clock.now()) {
        next = next === null ? lock.expiresAt : Math.min(next, lock.expiresAt);
        continue;
      }
      if (entry.lease !== undefined) await this.kv.revokeLease(entry.lease);
      else
        await this.kv.txn({
          compare: [{ key: entry.key, modRevision: entry.modRevision }],
          success: [{ type: 'delete', key: entry.key }],
        });
    }
    return next;
  }

  /** The lock a key holds, unless there is none or it expired (its lease may not have ended yet). */
  private liveLock(entry: KvEntry | undefined): Lock | null {
    if (entry === undefined) return null;
    const lock = parseLock(entry);
    return lock.expiresAt > this.clock.now() ? lock : null;
  }
}

/** Another writer changed the key at every attempt: said rather than tried for ever. */
function contended(target: LockTarget, action: 'lock' | 'unlock'): FerryError {
  return new FerryError(
    'FERRY_E_LOCKED',
    `cannot ${action} ${describeTarget(target)}: its lock changed under this request ${MAX_ATTEMPTS} times in a row; try again`,
    { where: describeTarget(target) },
  );
}
