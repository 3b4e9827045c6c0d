import { describe, expect, it } from 'vitest';
import { upgradeDeploymentState } from './create.js';
import { step } from './step.js';
import type { DeploymentState } from './types.js';

/** A canary deployment as Ferry 0.1.0 persisted it, in its canary step: none of the later fields. */
const persistedBy010 = {
  id: 'd-0123456789',
  app: 'hello',
  env: 'production',
  kind: 'deploy',
  from: '1.0.0',
  to: '1.1.0',
  strategy: {
    kind: 'canary',
    healthDeadlineMs: 15_000,
    steps: [{ weight: 10, pauseMs: 1000 }],
    analysis: { maxErrorRate: 0.05, minRequests: 20 },
  },
  instances: 2,
  status: 'running',
  phase: 'shifting',
  phaseSince: 1_000,
  step: 0,
  weight: 10,
  pausedRemainingMs: null,
  failure: null,
  revertReason: null,
  trafficRestored: false,
  createdAt: 0,
  updatedAt: 1_000,
} as unknown as DeploymentState;

describe('a deployment persisted by an older Ferry', () => {
  it('resumes under this engine with neutral values for the fields added since', () => {
    const state = upgradeDeploymentState(persistedBy010);
    expect(state).toMatchObject({
      afterSwitchHook: false,
      waitingForTraffic: false,
      pauseReason: null,
      retry: null,
      weightOverride: null,
      trigger: null,
    });
    expect(state.strategy.kind === 'canary' && state.strategy.analysis).toEqual({
      maxErrorRate: 0.05,
      minRequests: 20,
      maxWaitMs: 300_000,
      inconclusive: 'pause',
    });
    const resumed = step(state, { type: 'recover' }, 2_000);
    expect(resumed.state.status).toBe('running');
    expect(resumed.effects).toContainEqual({ type: 'set-traffic', weights: { '1.1.0': 10, '1.0.0': 90 } });
    const ticked = step(resumed.state, { type: 'tick' }, 2_500);
    expect(ticked.state.phase).toBe('shifting');
  });
});
