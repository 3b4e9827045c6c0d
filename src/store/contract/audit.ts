import { describe, expect, it } from 'vitest';
import type { Store } from '../store.js';
import { useFreshStore } from './fixtures.js';

export function describeAudit(open: () => Promise<Store>): void {
  describe('audit trail', () => {
    const store = useFreshStore(open);

    it('lists entries newest first, then by insertion order for equal times, up to the limit', async () => {
      await store().audit({ at: 100, actor: 'cli', action: 'deploy', target: 'web/production' });
      await store().audit({
        at: 300,
        actor: 'api',
        action: 'lock',
        target: 'production',
        detail: { ttl: '1h' },
      });
      await store().audit({ at: 200, actor: 'engine', action: 'rollback', target: 'web/production' });
      await store().audit({ at: 200, actor: 'engine', action: 'mark-bad', target: 'web/production@2.0.0' });

      const all = await store().listAudit(10);
      expect(all.map((e) => e.action)).toEqual(['lock', 'mark-bad', 'rollback', 'deploy']);
      expect(all[0]).toStrictEqual({
        at: 300,
        actor: 'api',
        action: 'lock',
        target: 'production',
        detail: { ttl: '1h' },
      });
      expect(all[3]).not.toHaveProperty('detail');
      expect((await store().listAudit(2)).map((e) => e.action)).toEqual(['lock', 'mark-bad']);
      expect(await store().listAudit(0)).toEqual([]);
    });

    it('keeps structured detail intact', async () => {
      const detail = {
        from: '1.0.0',
        to: '2.0.0',
        flags: ['--wait'],
        note: 'quote " and ✓',
        count: 3,
        none: null,
      };
      await store().audit({ at: 1, actor: 'token:ci', action: 'deploy', target: 'web/production', detail });
      expect((await store().listAudit(1))[0]?.detail).toStrictEqual(detail);
    });
  });
}
