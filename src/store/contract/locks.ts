import { describe, expect, it } from 'vitest';
import type { LockRecord, Store } from '../store.js';
import { useFreshStore } from './fixtures.js';

function aLock(owner: string, createdAt: number, expiresAt: number | null, reason = 'freeze'): LockRecord {
  return { key: 'env:production', owner, reason, expiresAt, createdAt };
}

export function describeLocks(open: () => Promise<Store>): void {
  describe('locks', () => {
    const store = useFreshStore(open);

    it('takes a free lock and refuses it to anyone else while it holds', async () => {
      expect(await store().acquireLock(aLock('alice', 100, 1_000))).toBe(true);
      expect(await store().acquireLock(aLock('bob', 999, 5_000))).toBe(false);
      expect(await store().getLock('env:production', 999)).toStrictEqual(aLock('alice', 100, 1_000));
      expect(await store().getLock('env:other', 999)).toBeUndefined();
    });

    it('lets the holder refresh its lock', async () => {
      await store().acquireLock(aLock('alice', 100, 1_000));
      expect(await store().acquireLock(aLock('alice', 900, 2_000, 'still frozen'))).toBe(true);
      expect(await store().getLock('env:production', 1_500)).toStrictEqual(
        aLock('alice', 900, 2_000, 'still frozen'),
      );
      expect(await store().acquireLock(aLock('bob', 1_500, 3_000))).toBe(false);
    });

    it('hands an expired lock to the next owner; expiry is inclusive of expiresAt', async () => {
      await store().acquireLock(aLock('alice', 100, 1_000));
      expect(await store().getLock('env:production', 999)).toBeDefined();
      expect(await store().getLock('env:production', 1_000)).toBeUndefined();
      expect(await store().acquireLock(aLock('bob', 999, 3_000))).toBe(false);
      expect(await store().acquireLock(aLock('bob', 1_000, 3_000))).toBe(true);
      expect(await store().getLock('env:production', 1_000)).toStrictEqual(aLock('bob', 1_000, 3_000));
    });

    it('never expires a lock without expiresAt', async () => {
      await store().acquireLock(aLock('alice', 100, null));
      expect(await store().acquireLock(aLock('bob', Number.MAX_SAFE_INTEGER, null))).toBe(false);
      expect(await store().getLock('env:production', Number.MAX_SAFE_INTEGER)).toMatchObject({
        owner: 'alice',
      });
    });

    it('releases a lock only for its owner', async () => {
      await store().acquireLock(aLock('alice', 100, null));
      await store().releaseLock('env:production', 'bob');
      expect(await store().getLock('env:production', 200)).toMatchObject({ owner: 'alice' });
      await store().releaseLock('env:production', 'alice');
      expect(await store().getLock('env:production', 200)).toBeUndefined();
      await store().releaseLock('env:production', 'alice');
      expect(await store().acquireLock(aLock('bob', 300, null))).toBe(true);
    });

    it('keeps locks of different keys independent', async () => {
      expect(await store().acquireLock({ ...aLock('alice', 1, null), key: 'env:production' })).toBe(true);
      expect(await store().acquireLock({ ...aLock('bob', 1, null), key: 'env:staging/web' })).toBe(true);
      expect(await store().getLock('env:staging/web', 2)).toMatchObject({ owner: 'bob' });
    });

    it('gives a contended lock to exactly one of many concurrent callers', async () => {
      const owners = Array.from({ length: 10 }, (_, i) => `owner-${i}`);
      const results = await Promise.all(owners.map((owner) => store().acquireLock(aLock(owner, 100, null))));
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = owners[results.indexOf(true)];
      expect(await store().getLock('env:production', 100)).toMatchObject({ owner: winner });
    });
  });
}
