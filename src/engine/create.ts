import type { DeploymentState } from './types.js';

export type DeploymentPlan = Pick<
  DeploymentState,
  'id' | 'app' | 'env' | 'kind' | 'from' | 'to' | 'strategy' | 'instances'
>;

/** A new deployment, pending until the runtime persists it and sends 'begin'. */
export function createDeployment(plan: DeploymentPlan, now: number): DeploymentState {
  return {
    ...plan,
    status: 'pending',
    phase: 'installing',
    phaseSince: now,
    step: 0,
    weight: 0,
    pausedRemainingMs: null,
    failure: null,
    revertReason: null,
    trafficRestored: false,
    createdAt: now,
    updatedAt: now,
  };
}

/** A one-line summary for status displays: "canary step 2/3 at 50%", "waiting for health"... */
export function describeProgress(state: DeploymentState): string {
  switch (state.phase) {
    case 'installing':
      return `installing ${state.to}`;
    case 'stopping-old':
      return `stopping ${state.from ?? ''}`;
    case 'starting':
      return `starting ${state.to}, waiting for health`;
    case 'shifting': {
      const total = state.strategy.kind === 'canary' ? state.strategy.steps.length : 1;
      return `canary step ${state.step + 1}/${total} at ${state.weight}%${state.status === 'paused' ? ' (paused)' : ''}`;
    }
    case 'retiring':
      return `100% on ${state.to}, draining ${state.from ?? ''}`;
    case 'reverting':
      return `rolling back to ${state.from ?? 'nothing'}`;
    case 'done':
      return state.status;
  }
}
