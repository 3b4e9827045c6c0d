import { describe, expect, it } from 'vitest';
import { type KvContractHarness, useFreshKvStore } from './fixtures.js';

export function describeRevisions(harness: KvContractHarness): void {
  describe('revisions', () => {
    const store = useFreshKvStore(harness);

    it('starts empty at its base revision, which reads do not move', async () => {
      const base = await store().revision();
      expect(await store().get('/a')).toBeUndefined();
      expect(await store().range('')).toEqual({ entries: [], revision: base });
      expect(await store().revision()).toBe(base);
    });

    it('advances by exactly one for every write that changes something, and only then', async () => {
      const base = await store().revision();
      expect(await store().put('/a', '1')).toBe(base + 1);
      expect(await store().put('/b', '1')).toBe(base + 2);
      expect(await store().put('/a', '2')).toBe(base + 3);
      expect(await store().delete('/a')).toBe(base + 4);
      expect(await store().delete('/a')).toBe(base + 4);
      expect(await store().revision()).toBe(base + 4);

      const both = await store().txn({
        compare: [],
        success: [
          { type: 'put', key: '/c', value: '1' },
          { type: 'put', key: '/d', value: '1' },
        ],
      });
      expect(both).toEqual({ succeeded: true, revision: base + 5 });
      expect(await store().txn({ compare: [{ key: '/b', value: 'not its value' }], success: [] })).toEqual({
        succeeded: false,
        revision: base + 5,
      });
      expect(
        await store().txn({ compare: [], success: [{ type: 'delete-prefix', prefix: '/absent/' }] }),
      ).toEqual({ succeeded: true, revision: base + 5 });
      expect(await store().revision()).toBe(base + 5);
    });

    it('keeps createRevision, modRevision and version as etcd does; a re-created key starts over', async () => {
      const base = await store().revision();
      await store().put('/k', 'one');
      expect(await store().get('/k')).toEqual({
        key: '/k',
        value: 'one',
        createRevision: base + 1,
        modRevision: base + 1,
        version: 1,
      });
      await store().put('/other', 'x');
      await store().put('/k', 'two');
      expect(await store().get('/k')).toMatchObject({
        createRevision: base + 1,
        modRevision: base + 3,
        version: 2,
      });
      await store().delete('/k');
      await store().put('/k', 'three');
      expect(await store().get('/k')).toEqual({
        key: '/k',
        value: 'three',
        createRevision: base + 5,
        modRevision: base + 5,
        version: 1,
      });
    });
  });
}
