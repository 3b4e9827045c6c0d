import { describe, expect, it } from 'vitest';
import { expectFerryError } from '../../contract/fixtures.js';
import { type KvContractHarness, WatchRecorder, eventually, useFreshKvStore } from './fixtures.js';

export function describeLeases(harness: KvContractHarness): void {
  describe('leases', () => {
    const store = useFreshKvStore(harness);
    const ttl = harness.leaseTtlMs;

    it('grants at least the TTL asked', async () => {
      const lease = await store().grantLease(ttl);
      expect(lease.id).toMatch(/^[0-9]+$/);
      expect(lease.ttlMs).toBeGreaterThanOrEqual(ttl);
      await store().revokeLease(lease.id);
    });

    it('deletes its keys when it expires, at one revision, as expired deletes', async () => {
      const lease = await store().grantLease(ttl);
      await store().put('/hosts/a', 'up', { lease: lease.id });
      await store().put('/hosts/b', 'up', { lease: lease.id });
      await store().put('/hosts/c', 'static');
      expect(await store().get('/hosts/a')).toMatchObject({ lease: lease.id });
      expect((await store().get('/hosts/c'))?.lease).toBeUndefined();
      const before = await store().revision();
      const watch = new WatchRecorder(store(), '/hosts/', before);

      await harness.elapse(lease.ttlMs);
      await eventually('the leased keys to expire', async () => (await store().revision()) > before);
      await watch.reach(before + 1);
      expect(await store().revision()).toBe(before + 1);
      expect((await store().range('/hosts/')).entries.map((entry) => entry.key)).toEqual(['/hosts/c']);
      expect(watch.batches).toEqual([
        {
          revision: before + 1,
          events: [
            { type: 'delete', key: '/hosts/a', modRevision: before + 1, expired: true },
            { type: 'delete', key: '/hosts/b', modRevision: before + 1, expired: true },
          ],
        },
      ]);
      expect(await store().keepAlive(lease.id)).toBe(false);
      watch.cancel();
    });

    it('lives on while kept alive, and keepAlive says false once it expired', async () => {
      const lease = await store().grantLease(ttl);
      await store().put('/locks/deploy', 'me', { lease: lease.id });
      // Six renewals a quarter of the TTL apart: the lease outlives its TTL by half.
      for (let i = 0; i < 6; i++) {
        await harness.elapse(lease.ttlMs / 4);
        expect(await store().keepAlive(lease.id)).toBe(true);
      }
      expect(await store().get('/locks/deploy')).toMatchObject({ value: 'me' });
      await harness.elapse(lease.ttlMs);
      await eventually('the lease to expire', async () => (await store().get('/locks/deploy')) === undefined);
      expect(await store().keepAlive(lease.id)).toBe(false);
    });

    it('revokes at once, deleting its keys; revoking again is a no-op', async () => {
      const lease = await store().grantLease(ttl * 100);
      await store().put('/r/1', 'x', { lease: lease.id });
      const before = await store().revision();
      const watch = new WatchRecorder(store(), '/r/', before);
      await store().revokeLease(lease.id);
      expect(await store().get('/r/1')).toBeUndefined();
      expect(await store().revision()).toBe(before + 1);
      await watch.reach(before + 1);
      expect(watch.events).toEqual([{ type: 'delete', key: '/r/1', modRevision: before + 1, expired: true }]);
      await store().revokeLease(lease.id);
      await store().revokeLease('123456789');
      expect(await store().keepAlive(lease.id)).toBe(false);
      watch.cancel();
    });

    it('refuses a put or a transaction with an unknown or ended lease, changing nothing', async () => {
      const lease = await store().grantLease(ttl * 100);
      await store().revokeLease(lease.id);
      const before = await store().revision();
      const error = await expectFerryError(
        store().put('/k', 'v', { lease: lease.id }),
        'FERRY_E_STORE_LEASE_EXPIRED',
      );
      expect(error.message).toContain(lease.id);
      await expectFerryError(store().put('/k', 'v', { lease: '123456789' }), 'FERRY_E_STORE_LEASE_EXPIRED');
      await expectFerryError(store().put('/k', 'v', { lease: 'not-a-lease' }), 'FERRY_E_STORE_LEASE_EXPIRED');
      await expectFerryError(
        store().txn({
          compare: [],
          success: [
            { type: 'put', key: '/k1', value: 'v' },
            { type: 'put', key: '/k2', value: 'v', lease: lease.id },
          ],
        }),
        'FERRY_E_STORE_LEASE_EXPIRED',
      );
      expect(await store().revision()).toBe(before);
      expect((await store().range('')).entries).toEqual([]);
    });

    it('detaches a key put again without its lease (it then outlives the lease)', async () => {
      const lease = await store().grantLease(ttl * 100);
      await store().put('/d/kept', '1', { lease: lease.id });
      await store().put('/d/gone', '1', { lease: lease.id });
      await store().put('/d/kept', '2');
      expect((await store().get('/d/kept'))?.lease).toBeUndefined();
      await store().revokeLease(lease.id);
      expect((await store().range('/d/')).entries.map((entry) => [entry.key, entry.value])).toEqual([
        ['/d/kept', '2'],
      ]);
    });
  });
}
