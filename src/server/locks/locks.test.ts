import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isFerryError } from '../../errors/ferry-error.js';
import { FakeClock } from '../../lib/clock.js';
import { openSqliteKvStore, type SqliteKvStore } from '../../store/kv/sqlite-kv.js';
import { DEFAULT_LOCK_TTL_MS, lockKey, MAX_LOCK_TTL_MS } from './lock.js';
import { Locks } from './locks.js';

const HOUR = 3_600_000;

let clock: FakeClock;
let kv: SqliteKvStore;
let locks: Locks;

beforeEach(async () => {
  // 2026-11-28T10:00:00Z
  clock = new FakeClock(Date.UTC(2026, 10, 28, 10));
  kv = await openSqliteKvStore(':memory:', { clock });
  locks = new Locks(kv, clock);
});

afterEach(async () => {
  await kv.close();
});

async function refusal(promise: Promise<unknown>) {
  const error = await promise.then(
    () => {
      throw new Error('expected a refusal');
    },
    (e: unknown) => e,
  );
  if (!isFerryError(error)) throw error;
  return error;
}

describe('locks on the key-value store', () => {
  it('takes a lock on a lease of its TTL, and holds every app of the environment', async () => {
    const { lock, replaced } = await locks.lock({
      env: 'production',
      app: null,
      owner: 'alice',
      reason: 'release freeze',
      ttlMs: 2 * HOUR,
    });
    expect(replaced).toBeNull();
    expect(lock).toEqual({
      env: 'production',
      app: null,
      owner: 'alice',
      reason: 'release freeze',
      createdAt: clock.now(),
      expiresAt: clock.now() + 2 * HOUR,
    });
    const entry = await kv.get('/locks/production');
    expect(entry?.lease).toBeDefined();
    expect(await locks.holding('web', 'production')).toEqual(lock);
    expect(await locks.holding('api', 'production')).toEqual(lock);
    expect(await locks.holding('web', 'staging')).toBeNull();
    expect(await locks.list()).toEqual([lock]);
  });

  it('expires with its lease: nothing stays locked for ever', async () => {
    await locks.lock({ env: 'production', app: 'web', owner: 'alice', reason: 'incident', ttlMs: HOUR });
    await clock.advance(HOUR - 1);
    expect(await locks.holding('web', 'production')).not.toBeNull();
    await clock.advance(1);
    expect(await locks.holding('web', 'production')).toBeNull();
    // The store's own lease timer deleted the key.
    expect(await kv.get('/locks/production/web')).toBeUndefined();
  });

  it('defaults to a 24h TTL and refuses one past 7d, a missing reason or a bad name, changing nothing', async () => {
    const { lock } = await locks.lock({ env: 'staging', app: null, owner: 'a', reason: 'x' });
    expect(lock.expiresAt - lock.createdAt).toBe(DEFAULT_LOCK_TTL_MS);
    const revision = await kv.revision();
    const tooLong = await refusal(
      locks.lock({ env: 'production', app: null, owner: 'a', reason: 'x', ttlMs: MAX_LOCK_TTL_MS + 1 }),
    );
    expect(tooLong.code).toBe('FERRY_E_USAGE');
    expect(tooLong.message).toMatch(/^ttl: expected a duration from 1s to 7d/);
    const noReason = await refusal(locks.lock({ env: 'production', app: null, owner: 'a', reason: '  ' }));
    expect(noReason.message).toMatch(/^reason: a reason is required/);
    const twoLines = await refusal(locks.lock({ env: 'production', app: null, owner: 'a', reason: 'a\nb' }));
    expect(twoLines.message).toMatch(/^reason: one line/);
    const badName = await refusal(locks.lock({ env: '../x', app: null, owner: 'a', reason: 'x' }));
    expect(badName.message).toMatch(/^env: expected a name/);
    expect(await kv.revision()).toBe(revision);
  });

  it("refuses another owner's lock naming the holder, its reason and expiry", async () => {
    await locks.lock({
      env: 'production',
      app: null,
      owner: 'alice',
      reason: 'release freeze',
      ttlMs: 2 * HOUR,
    });
    const error = await refusal(locks.lock({ env: 'production', app: null, owner: 'bob', reason: 'mine' }));
    expect(error.code).toBe('FERRY_E_LOCKED');
    expect(error.message).toBe(
      'cannot lock production: production is locked by alice until 2026-11-28T12:00:00Z: release freeze; wait for it to be released',
    );
    expect(error.httpStatus).toBe(423);
    expect((await locks.holding('web', 'production'))?.owner).toBe('alice');
  });

  it('renews when the same owner locks again: new reason and expiry, the old lease ended', async () => {
    const first = await locks.lock({
      env: 'production',
      app: null,
      owner: 'alice',
      reason: 'a',
      ttlMs: HOUR,
    });
    const oldLease = (await kv.get('/locks/production'))!.lease!;
    await clock.advance(HOUR / 2);
    const second = await locks.lock({
      env: 'production',
      app: null,
      owner: 'alice',
      reason: 'b',
      ttlMs: HOUR,
    });
    expect(second.replaced).toEqual(first.lock);
    expect(second.lock).toMatchObject({ reason: 'b', expiresAt: clock.now() + HOUR });
    expect(await kv.keepAlive(oldLease)).toBe(false);
    // Past the first lock's expiry the renewed one holds.
    await clock.advance(HOUR / 2 + 1);
    expect((await locks.holding('web', 'production'))?.reason).toBe('b');
  });

  it('lets one of two racing lockers win; the other is refused naming the winner', async () => {
    const results = await Promise.allSettled([
      locks.lock({ env: 'production', app: 'web', owner: 'alice', reason: 'a' }),
      new Locks(kv, clock).lock({ env: 'production', app: 'web', owner: 'bob', reason: 'b' }),
    ]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    const winner = (await locks.holding('web', 'production'))!;
    const reason = (lost[0] as PromiseRejectedResult).reason as Error;
    expect(isFerryError(reason, 'FERRY_E_LOCKED')).toBe(true);
    expect(reason.message).toContain(`locked by ${winner.owner}`);
    // Only the winner's lease holds a key; the loser's was ended.
    expect((await kv.range('/locks/')).entries).toHaveLength(1);
  });

  it('takes the compare-and-swap path: a write between the read and the put makes the locker read again', async () => {
    // Another server takes the lock between this one's read and its write.
    let raced = false;
    const racing = new Proxy(kv, {
      get(target, property, receiver) {
        if (property === 'grantLease' && !raced) {
          raced = true;
          return async (ttl: number) => {
            await new Locks(kv, clock).lock({ env: 'production', app: null, owner: 'bob', reason: 'b' });
            return target.grantLease(ttl);
          };
        }
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const error = await refusal(
      new Locks(racing, clock).lock({ env: 'production', app: null, owner: 'alice', reason: 'a' }),
    );
    expect(error.message).toContain('locked by bob');
    expect((await kv.range('/locks/')).entries).toHaveLength(1);
  });

  it('unlocks exactly its target, and says when there is nothing to unlock', async () => {
    await locks.lock({ env: 'production', app: 'web', owner: 'alice', reason: 'incident' });
    const envUnlock = await refusal(locks.unlock({ env: 'production', app: null }));
    expect(envUnlock.code).toBe('FERRY_E_LOCK_UNKNOWN');
    expect(envUnlock.message).toBe(
      'production is not locked; locked there: web in production (ferry unlock production web)',
    );
    const released = await locks.unlock({ env: 'production', app: 'web' });
    expect(released).toMatchObject({ owner: 'alice', reason: 'incident' });
    expect(await locks.holding('web', 'production')).toBeNull();
    const again = await refusal(locks.unlock({ env: 'production', app: 'web' }));
    expect(again.message).toBe('web in production is not locked');
  });

  it('treats a lock past its expiry as gone even while its lease lives on, and ends that lease', async () => {
    // A lease renewed for a full TTL when the store reopened outlives the lock it carries.
    const { lock } = await locks.lock({ env: 'production', app: null, owner: 'a', reason: 'x', ttlMs: HOUR });
    const lease = await kv.grantLease(2 * HOUR);
    await kv.put(lockKey(lock), JSON.stringify(lock), { lease: lease.id });
    await clock.advance(HOUR);
    expect(await kv.get('/locks/production')).toBeDefined();
    expect(await locks.holding('web', 'production')).toBeNull();
    expect(await locks.list()).toEqual([]);
    const error = await refusal(locks.unlock({ env: 'production', app: null }));
    expect(error.message).toBe('production is not locked (its lock by a expired at 2026-11-28T11:00:00Z)');
    expect(await kv.get('/locks/production')).toBeUndefined();
  });

  it('expireOverdue ends overdue leases and says when the next lock expires', async () => {
    const { lock } = await locks.lock({ env: 'production', app: null, owner: 'a', reason: 'x', ttlMs: HOUR });
    const lease = await kv.grantLease(3 * HOUR);
    await kv.put(lockKey(lock), JSON.stringify(lock), { lease: lease.id });
    const { lock: later } = await locks.lock({
      env: 'staging',
      app: null,
      owner: 'a',
      reason: 'x',
      ttlMs: 2 * HOUR,
    });
    expect(await locks.expireOverdue()).toBe(lock.expiresAt);
    await clock.advance(HOUR);
    expect(await locks.expireOverdue()).toBe(later.expiresAt);
    expect(await kv.get('/locks/production')).toBeUndefined();
    expect(await kv.get('/locks/staging')).toBeDefined();
  });
});
