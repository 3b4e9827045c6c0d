import { describe, expect, it } from 'vitest';
import type { Store } from '../store.js';
import { aDeployment, expectFerryError, useFreshStore } from './fixtures.js';

export function describeDeploymentEvents(open: () => Promise<Store>): void {
  describe('deployment events', () => {
    const store = useFreshStore(open);

    it('numbers events 1, 2, 3... per deployment and lists them in order', async () => {
      await store().createDeployment(aDeployment({ id: 'd-1' }));
      await store().createDeployment(aDeployment({ id: 'd-2', app: 'api' }));
      const first = await store().appendEvent({
        deploymentId: 'd-1',
        at: 10,
        type: 'phase',
        message: 'installing',
      });
      expect(first).toStrictEqual({
        deploymentId: 'd-1',
        seq: 1,
        at: 10,
        type: 'phase',
        message: 'installing',
      });
      await store().appendEvent({ deploymentId: 'd-2', at: 11, type: 'phase', message: 'api installing' });
      const second = await store().appendEvent({
        deploymentId: 'd-1',
        at: 12,
        type: 'record',
        message: 'installed',
        data: { bytes: 1024, files: ['server.mjs'], nested: { ok: true, none: null } },
      });
      expect(second.seq).toBe(2);
      // Events do not have to arrive in time order; the log keeps the order they were appended in.
      await store().appendEvent({ deploymentId: 'd-1', at: 5, type: 'effect', message: 'late clock' });

      const events = await store().listEvents('d-1');
      expect(events.map((e) => [e.seq, e.message])).toEqual([
        [1, 'installing'],
        [2, 'installed'],
        [3, 'late clock'],
      ]);
      expect(events[1]).toStrictEqual(second);
      expect(events[1]?.data).toEqual({
        bytes: 1024,
        files: ['server.mjs'],
        nested: { ok: true, none: null },
      });
      expect(events[0]).not.toHaveProperty('data');
      expect((await store().listEvents('d-2')).map((e) => e.seq)).toEqual([1]);
    });

    it('returns only the events after afterSeq, for streaming', async () => {
      await store().createDeployment(aDeployment());
      for (let i = 1; i <= 5; i += 1) {
        await store().appendEvent({ deploymentId: 'd-1', at: i, type: 'record', message: `event ${i}` });
      }
      expect((await store().listEvents('d-1', 0)).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
      expect((await store().listEvents('d-1', 3)).map((e) => e.seq)).toEqual([4, 5]);
      expect(await store().listEvents('d-1', 5)).toEqual([]);
      expect(await store().listEvents('d-unknown')).toEqual([]);
    });

    it('gives concurrent appends distinct, gapless sequence numbers', async () => {
      await store().createDeployment(aDeployment());
      const appended = await Promise.all(
        Array.from({ length: 25 }, (_, i) =>
          store().appendEvent({ deploymentId: 'd-1', at: i, type: 'record', message: `m${i}` }),
        ),
      );
      const seqs = appended.map((e) => e.seq).sort((a, b) => a - b);
      expect(seqs).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
      expect((await store().listEvents('d-1')).map((e) => e.seq)).toEqual(seqs);
    });

    it('refuses events of a deployment that does not exist', async () => {
      const error = await expectFerryError(
        store().appendEvent({ deploymentId: 'd-ghost', at: 1, type: 'record', message: 'lost' }),
        'FERRY_E_DEPLOYMENT_UNKNOWN',
      );
      expect(error.message).toContain('d-ghost');
    });
  });
}
