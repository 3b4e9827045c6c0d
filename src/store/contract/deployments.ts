import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openServedReport, recordReading } from '../../engine/served-report.js';
import type { DeploymentState } from '../../engine/types.js';
import type { Store } from '../store.js';
import { aDeployment, deploymentStates, expectFerryError, useFreshStore } from './fixtures.js';

/** A state far from the defaults: a canary reverting after a failure with all the evidence kept. */
const richState = aDeployment({
  id: 'd-rich',
  kind: 'rollback',
  from: null,
  to: '2.0.0-ünïcode',
  strategy: {
    kind: 'canary',
    healthDeadlineMs: 30_000,
    steps: [
      { weight: 10, pauseMs: 60_000 },
      { weight: 50, pauseMs: 120_000 },
    ],
    analysis: { maxErrorRate: 0.015, minRequests: 50, maxWaitMs: 60_000, inconclusive: 'fail' },
  },
  status: 'rolling-back',
  phase: 'reverting',
  step: 1,
  weight: 50,
  pausedRemainingMs: 12_345,
  failure: {
    code: 'FERRY_E_ANALYSIS_FAILED',
    message: 'error rate 0.4 over 0.015',
    evidence: {
      health: 'GET /healthz -> 503 "db down"',
      logTail: ['line "one"', 'line\ttwo\n', '✓ three'],
      traffic: { requests: 200, errors: 80 },
      instanceId: 'i-7',
    },
  },
  revertReason: 'failure',
  trafficRestored: true,
});

export function describeDeployments(open: () => Promise<Store>): void {
  describe('deployments', () => {
    const store = useFreshStore(open);

    it('round-trips a deployment state exactly', async () => {
      await store().createDeployment(richState);
      expect(await store().getDeployment('d-rich')).toStrictEqual(richState);
      expect(await store().getDeployment('d-unknown')).toBeUndefined();
    });

    it('round-trips any state the engine can produce', async () => {
      let n = 0;
      await fc.assert(
        fc.asyncProperty(deploymentStates, async (generated) => {
          n += 1;
          // A distinct app per run, so generated non-final states never collide with each other.
          const state: DeploymentState = { ...generated, id: `d-prop-${n}`, app: `${generated.app}#${n}` };
          await store().createDeployment(state);
          expect(await store().getDeployment(state.id)).toStrictEqual(state);
          const saved = { ...state, weight: (state.weight + 1) % 101, updatedAt: state.updatedAt + 1 };
          await store().saveDeployment(saved);
          expect(await store().getDeployment(state.id)).toStrictEqual(saved);
        }),
        { numRuns: 60 },
      );
    });

    it("keeps a deployment's served-request report beside its state, the last one saved", async () => {
      await store().createDeployment(aDeployment());
      expect(await store().getServedReport('d-1')).toBeUndefined();
      const key = { phase: 'shifting', step: 0, weight: 10 } as const;
      const first = openServedReport(1_000, key);
      await store().saveServedReport('d-1', first);
      const counts = {
        releases: [{ version: '1.0.0', answered: 41_220, serverError: 1, reset: 0, timeout: 0 }],
        held: 2,
        rejected: 0,
        abandoned: 0,
      };
      const later = recordReading(
        recordReading(first, { epoch: 'e', counts: { ...counts, releases: [] } }, 1_000, key),
        { epoch: 'e', counts },
        2_000,
        { phase: 'retiring', step: null, weight: 100 },
      );
      await store().saveServedReport('d-1', later);
      expect(await store().getServedReport('d-1')).toStrictEqual(later);
      // Saving the engine's state leaves the report alone.
      await store().saveDeployment(aDeployment({ phase: 'retiring', updatedAt: 3_000 }));
      expect(await store().getServedReport('d-1')).toStrictEqual(later);
      await expectFerryError(store().saveServedReport('d-ghost', first), 'FERRY_E_DEPLOYMENT_UNKNOWN');
      expect(await store().getServedReport('d-ghost')).toBeUndefined();
    });

    it('saves each new state over the last one', async () => {
      await store().createDeployment(aDeployment());
      const shifted = aDeployment({ phase: 'retiring', weight: 100, phaseSince: 2_000, updatedAt: 2_000 });
      await store().saveDeployment(shifted);
      expect(await store().getDeployment('d-1')).toStrictEqual(shifted);
    });

    it('refuses to save a deployment that was never created', async () => {
      const error = await expectFerryError(
        store().saveDeployment(aDeployment({ id: 'd-ghost' })),
        'FERRY_E_DEPLOYMENT_UNKNOWN',
      );
      expect(error.message).toContain('d-ghost');
      expect(await store().getDeployment('d-ghost')).toBeUndefined();
    });

    it('refuses a second active deployment of the same app and environment, naming the active one', async () => {
      await store().createDeployment(aDeployment({ id: 'd-first' }));
      const error = await expectFerryError(
        store().createDeployment(aDeployment({ id: 'd-second', to: '1.2.0' })),
        'FERRY_E_DEPLOYMENT_IN_PROGRESS',
      );
      expect(error.message).toContain('web');
      expect(error.message).toContain('production');
      expect(error.message).toContain('d-first');
      expect(await store().getDeployment('d-second')).toBeUndefined();
      expect(await store().activeDeployment('web', 'production')).toStrictEqual(
        aDeployment({ id: 'd-first' }),
      );
    });

    it('allows concurrent deployments of other apps and other environments', async () => {
      await store().createDeployment(aDeployment({ id: 'd-1' }));
      await store().createDeployment(aDeployment({ id: 'd-2', env: 'staging' }));
      await store().createDeployment(aDeployment({ id: 'd-3', app: 'api' }));
      const active = await store().activeDeployments();
      expect(active.map((d) => d.id).sort()).toEqual(['d-1', 'd-2', 'd-3']);
    });

    it('allows the next deployment once the active one reached any final status', async () => {
      const finals = ['succeeded', 'failed', 'rolled-back', 'aborted'] as const;
      let previous = aDeployment({ id: 'd-0' });
      await store().createDeployment(previous);
      for (const [index, status] of finals.entries()) {
        await store().saveDeployment({ ...previous, status, phase: 'done' });
        expect(await store().activeDeployment('web', 'production')).toBeUndefined();
        previous = aDeployment({ id: `d-${index + 1}`, createdAt: 2_000 + index });
        await store().createDeployment(previous);
        expect((await store().activeDeployment('web', 'production'))?.id).toBe(previous.id);
      }
      expect(await store().activeDeployments()).toHaveLength(1);
    });

    it('treats every non-final status as active', async () => {
      const active = ['pending', 'running', 'paused', 'rolling-back'] as const;
      for (const [index, status] of active.entries()) {
        await store().createDeployment(aDeployment({ id: `d-${status}`, app: `app-${index}`, status }));
        expect((await store().activeDeployment(`app-${index}`, 'production'))?.status).toBe(status);
      }
      expect(await store().activeDeployments()).toHaveLength(active.length);
    });

    it('never lets a finished deployment become active again beside another active one', async () => {
      await store().createDeployment(aDeployment({ id: 'd-old', status: 'failed', phase: 'done' }));
      await store().createDeployment(aDeployment({ id: 'd-new' }));
      await expectFerryError(
        store().saveDeployment(aDeployment({ id: 'd-old' })),
        'FERRY_E_DEPLOYMENT_IN_PROGRESS',
      );
      expect((await store().getDeployment('d-old'))?.status).toBe('failed');
    });

    it('refuses to create a deployment id twice', async () => {
      await store().createDeployment(aDeployment({ status: 'succeeded', phase: 'done' }));
      const error = await expectFerryError(
        store().createDeployment(aDeployment({ env: 'dev' })),
        'FERRY_E_ILLEGAL_STATE',
      );
      expect(error.message).toContain('d-1');
      expect((await store().getDeployment('d-1'))?.env).toBe('production');
    });

    it('lists deployments newest first, filtered and limited', async () => {
      const make = (id: string, app: string, env: string, createdAt: number) =>
        aDeployment({ id, app, env, createdAt, status: 'succeeded', phase: 'done' });
      await store().createDeployment(make('d-a', 'web', 'production', 100));
      await store().createDeployment(make('d-b', 'web', 'staging', 200));
      await store().createDeployment(make('d-c', 'api', 'production', 300));
      await store().createDeployment(make('d-d', 'web', 'production', 300));
      const ids = async (filter: { app?: string; env?: string; limit?: number }) =>
        (await store().listDeployments(filter)).map((d) => d.id);
      expect(await ids({})).toEqual(['d-d', 'd-c', 'd-b', 'd-a']);
      expect(await ids({ app: 'web' })).toEqual(['d-d', 'd-b', 'd-a']);
      expect(await ids({ env: 'production' })).toEqual(['d-d', 'd-c', 'd-a']);
      expect(await ids({ app: 'web', env: 'production' })).toEqual(['d-d', 'd-a']);
      expect(await ids({ limit: 2 })).toEqual(['d-d', 'd-c']);
      expect(await ids({ app: 'web', limit: 1 })).toEqual(['d-d']);
      expect(await ids({ app: 'nope' })).toEqual([]);
    });
  });
}
