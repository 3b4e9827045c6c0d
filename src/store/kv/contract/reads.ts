import { describe, expect, it } from 'vitest';
import { compareKeys } from '../key-range.js';
import { type KvContractHarness, useFreshKvStore } from './fixtures.js';

export function describeReads(harness: KvContractHarness): void {
  describe('get, put, delete, range', () => {
    const store = useFreshKvStore(harness);

    it('gets what was put, and nothing once deleted', async () => {
      await store().put('/apps/web', '{"port":8080}');
      expect(await store().get('/apps/web')).toMatchObject({ key: '/apps/web', value: '{"port":8080}' });
      expect(await store().get('/apps/we')).toBeUndefined();
      expect(await store().get('/apps/web/')).toBeUndefined();
      await store().delete('/apps/web');
      expect(await store().get('/apps/web')).toBeUndefined();
    });

    it('ranges over the keys under a prefix only, in key order, at the revision it read', async () => {
      const keys = ['/a/2', '/ab/x', '/a/1', '/a', '/a/sub/x', '/b/1', '/a/10', '/a0'];
      for (const key of keys) await store().put(key, `v${key}`);
      const revision = await store().revision();

      const range = await store().range('/a/');
      expect(range.entries.map((entry) => entry.key)).toEqual(['/a/1', '/a/10', '/a/2', '/a/sub/x']);
      expect(range.entries[0]).toMatchObject({ value: 'v/a/1', version: 1 });
      expect(range.revision).toBe(revision);

      expect((await store().range('')).entries.map((entry) => entry.key)).toEqual(
        [...keys].sort(compareKeys),
      );
      expect((await store().range('/c/')).entries).toEqual([]);
    });

    it('stops a range at its limit, keeping key order', async () => {
      for (const key of ['/l/c', '/l/a', '/l/d', '/l/b']) await store().put(key, '1');
      const range = await store().range('/l/', { limit: 2 });
      expect(range.entries.map((entry) => entry.key)).toEqual(['/l/a', '/l/b']);
      expect((await store().range('/l/', { limit: 10 })).entries).toHaveLength(4);
    });
  });
}
