import { describe, expect, it } from 'vitest';
import type { InstanceStore, Store } from '../store.js';
import { anInstance, useFreshStore } from './fixtures.js';

export function describeInstancesAndCurrent(open: () => Promise<Store & InstanceStore>): void {
  describe('instances', () => {
    const store = useFreshStore(open);

    it('stores an instance before its pid is known and replaces it once it is', async () => {
      await store().putInstance(anInstance());
      expect(await store().getInstance('i-1')).toStrictEqual(anInstance());
      const spawned = anInstance({
        pid: 4242,
        pidStart: 987_654,
        state: 'running',
        restarts: 1,
        updatedAt: 2_000,
      });
      await store().putInstance(spawned);
      expect(await store().getInstance('i-1')).toStrictEqual(spawned);
      expect(await store().listInstances()).toStrictEqual([spawned]);
      // A crash: how it ended is kept with it (code or signal, and when).
      const crashed = {
        ...spawned,
        state: 'crashed' as const,
        lastExit: { code: null, signal: 'SIGKILL', at: 3_000 },
      };
      await store().putInstance(crashed);
      expect(await store().getInstance('i-1')).toStrictEqual(crashed);
      expect(await store().getInstance('i-unknown')).toBeUndefined();
    });

    it('filters instances by app, environment and version', async () => {
      await store().putInstance(anInstance({ id: 'i-1', createdAt: 1 }));
      await store().putInstance(anInstance({ id: 'i-2', version: '1.0.0', createdAt: 2 }));
      await store().putInstance(anInstance({ id: 'i-3', env: 'staging', createdAt: 3 }));
      await store().putInstance(anInstance({ id: 'i-4', app: 'api', createdAt: 4 }));
      const ids = async (filter?: { app?: string; env?: string; version?: string }) =>
        (await store().listInstances(filter)).map((i) => i.id).sort();
      expect(await ids()).toEqual(['i-1', 'i-2', 'i-3', 'i-4']);
      expect(await ids({})).toEqual(['i-1', 'i-2', 'i-3', 'i-4']);
      expect(await ids({ app: 'web' })).toEqual(['i-1', 'i-2', 'i-3']);
      expect(await ids({ env: 'production' })).toEqual(['i-1', 'i-2', 'i-4']);
      expect(await ids({ app: 'web', env: 'production' })).toEqual(['i-1', 'i-2']);
      expect(await ids({ app: 'web', env: 'production', version: '1.1.0' })).toEqual(['i-1']);
      expect(await ids({ version: '1.0.0' })).toEqual(['i-2']);
      expect(await ids({ app: 'nope' })).toEqual([]);
    });

    it('deletes an instance by id, and deleting an unknown one is harmless', async () => {
      await store().putInstance(anInstance({ id: 'i-1' }));
      await store().putInstance(anInstance({ id: 'i-2' }));
      await store().deleteInstance('i-1');
      await store().deleteInstance('i-1');
      expect(await store().getInstance('i-1')).toBeUndefined();
      expect((await store().listInstances()).map((i) => i.id)).toEqual(['i-2']);
    });
  });

  describe('current release', () => {
    const store = useFreshStore(open);

    it('knows no current release until one is set, then the last one set, per environment', async () => {
      expect(await store().getCurrent('web', 'production')).toBeUndefined();
      await store().setCurrent('web', 'production', '1.0.0');
      await store().setCurrent('web', 'staging', '1.1.0');
      expect(await store().getCurrent('web', 'production')).toBe('1.0.0');
      await store().setCurrent('web', 'production', '1.1.0');
      expect(await store().getCurrent('web', 'production')).toBe('1.1.0');
      expect(await store().getCurrent('web', 'staging')).toBe('1.1.0');
      expect(await store().getCurrent('api', 'production')).toBeUndefined();
    });
  });
}
