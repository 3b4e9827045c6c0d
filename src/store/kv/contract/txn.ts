import { describe, expect, it } from 'vitest';
import { expectFerryError } from '../../contract/fixtures.js';
import { type KvContractHarness, WatchRecorder, useFreshKvStore } from './fixtures.js';

export function describeTransactions(harness: KvContractHarness): void {
  describe('transactions', () => {
    const store = useFreshKvStore(harness);

    it('creates a key only while it is absent (modRevision 0)', async () => {
      const create = (value: string) =>
        store().txn({
          compare: [{ key: '/lock', modRevision: 0 }],
          success: [{ type: 'put', key: '/lock', value }],
        });
      const first = await create('alice');
      expect(first.succeeded).toBe(true);
      expect(await create('bob')).toEqual({ succeeded: false, revision: first.revision });
      expect(await store().get('/lock')).toMatchObject({ value: 'alice', version: 1 });
    });

    it('swaps on modRevision; a stale one writes nothing and keeps the revision', async () => {
      await store().put('/cfg', 'v1');
      const read = await store().get('/cfg');
      const swap = (value: string) =>
        store().txn({
          compare: [{ key: '/cfg', modRevision: read?.modRevision ?? -1 }],
          success: [{ type: 'put', key: '/cfg', value }],
        });
      const swapped = await swap('v2');
      expect(swapped.succeeded).toBe(true);
      expect(await swap('v3')).toEqual({ succeeded: false, revision: swapped.revision });
      expect(await store().get('/cfg')).toMatchObject({ value: 'v2', modRevision: swapped.revision });
    });

    it('compares values; a value compare on a missing key fails', async () => {
      await store().put('/state', 'ready');
      const when = (key: string, value: string) =>
        store().txn({
          compare: [{ key, value }],
          success: [{ type: 'put', key: '/out', value: `${key}=${value}` }],
          failure: [{ type: 'put', key: '/out', value: 'failed' }],
        });
      expect((await when('/state', 'ready')).succeeded).toBe(true);
      expect(await store().get('/out')).toMatchObject({ value: '/state=ready' });
      expect((await when('/state', 'busy')).succeeded).toBe(false);
      expect(await store().get('/out')).toMatchObject({ value: 'failed' });
      expect((await when('/missing', '')).succeeded).toBe(false);
    });

    it('needs every compare to hold, and applies the failure branch at a new revision otherwise', async () => {
      const a = await store().put('/a', '1');
      await store().put('/b', '2');
      const txn = (bValue: string) =>
        store().txn({
          compare: [
            { key: '/a', modRevision: a },
            { key: '/b', value: bValue },
            { key: '/c', modRevision: 0 },
          ],
          success: [{ type: 'put', key: '/c', value: 'made' }],
          failure: [{ type: 'delete', key: '/b' }],
        });
      const before = await store().revision();
      expect(await txn('wrong')).toEqual({ succeeded: false, revision: before + 1 });
      expect(await store().get('/b')).toBeUndefined();
      expect(await store().get('/c')).toBeUndefined();
      await store().put('/b', '2');
      const succeeded = await txn('2');
      expect(succeeded).toEqual({ succeeded: true, revision: before + 3 });
      expect(await store().get('/c')).toMatchObject({ value: 'made', createRevision: before + 3 });
    });

    it('writes all of a branch at one revision, seen as one batch by a watch', async () => {
      await store().put('/t/gone', 'x');
      const from = await store().revision();
      const watch = new WatchRecorder(store(), '/t/', from);
      const result = await store().txn({
        compare: [],
        success: [
          { type: 'put', key: '/t/b', value: '2' },
          { type: 'put', key: '/t/a', value: '1' },
          { type: 'delete', key: '/t/gone' },
        ],
      });
      expect(result).toEqual({ succeeded: true, revision: from + 1 });
      expect((await store().get('/t/a'))?.modRevision).toBe(result.revision);
      expect((await store().get('/t/b'))?.modRevision).toBe(result.revision);
      await watch.reach(result.revision);
      expect(watch.batches).toEqual([
        {
          revision: result.revision,
          events: [
            { type: 'put', key: '/t/b', value: '2', modRevision: result.revision },
            { type: 'put', key: '/t/a', value: '1', modRevision: result.revision },
            { type: 'delete', key: '/t/gone', modRevision: result.revision },
          ],
        },
      ]);
      watch.cancel();
    });

    it('deletes a prefix: every key under it and nothing beside it', async () => {
      for (const key of ['/jobs/1', '/jobs/2', '/jobs/x/3', '/jobs', '/jobsx', '/job'])
        await store().put(key, '1');
      const result = await store().txn({
        compare: [],
        success: [{ type: 'delete-prefix', prefix: '/jobs/' }],
      });
      expect(result.revision).toBe(await store().revision());
      expect((await store().range('')).entries.map((entry) => entry.key)).toEqual([
        '/job',
        '/jobs',
        '/jobsx',
      ]);
    });

    it('refuses a branch that writes one key twice, changing nothing', async () => {
      await store().put('/d/1', 'kept');
      const before = await store().revision();
      await expectFerryError(
        store().txn({
          compare: [],
          success: [
            { type: 'put', key: '/d/2', value: 'a' },
            { type: 'put', key: '/d/2', value: 'b' },
          ],
        }),
        'FERRY_E_STORE_REQUEST_INVALID',
      );
      await expectFerryError(
        store().txn({
          compare: [],
          success: [],
          failure: [
            { type: 'put', key: '/d/1', value: 'a' },
            { type: 'delete-prefix', prefix: '/d/' },
          ],
        }),
        'FERRY_E_STORE_REQUEST_INVALID',
      );
      expect(await store().revision()).toBe(before);
      expect(await store().get('/d/1')).toMatchObject({ value: 'kept' });
    });
  });
}
