import type { DeploymentState } from './types.js';

export type DeploymentPlan = Pick<
  DeploymentState,
  'id' | 'app' | 'env' | 'kind' | 'from' | 'to' | 'strategy' | 'instances' | 'afterSwitchHook'
> & { readonly replace?: DeploymentState['replace']; readonly trigger?: DeploymentState['trigger'] };

/** A new deployment, pending until the runtime persists it and sends 'begin'. */
export function createDeployment(plan: DeploymentPlan, now: number): DeploymentState {
  return {
    ...plan,
    replace: plan.replace ?? null,
    trigger: plan.trigger ?? null,
    status: 'pending',
    phase: 'installing',
    phaseSince: now,
    step: 0,
    weight: 0,
    weightOverride: null,
    pausedRemainingMs: null,
    failure: null,
    revertReason: null,
    trafficRestored: false,
    waitingForTraffic: false,
    pauseReason: null,
    retry: null,
    createdAt: now,
    updatedAt: now,
  };
}

/** A one-line summary for status displays: "canary step 2/3 at 50%", "waiting for health"... */
export function describeProgress(state: DeploymentState): string {
  const retrying = state.retry
    ? ` (retrying after ${state.retry.attempt} failure(s): ${state.retry.failure.message})`
    : '';
  return `${describePhase(state)}${retrying}`;
}

function describePhase(state: DeploymentState): string {
  switch (state.phase) {
    case 'installing':
      return state.kind === 'restart' ? `restarting ${state.to}` : `installing ${state.to}`;
    case 'stopping-old':
      return `stopping ${state.from ?? ''}`;
    case 'starting':
      return `starting ${state.to}, waiting for health`;
    case 'shifting': {
      const total = state.strategy.kind === 'canary' ? state.strategy.steps.length : 1;
      return `canary step ${state.step + 1}/${total} at ${state.weight}%${describeOverride(state)}${describeHold(state)}`;
    }
    case 'after-switch':
      return `100% on ${state.to}, running its after_switch hook`;
    case 'retiring':
      return `100% on ${state.to}, draining ${state.from ?? ''}`;
    case 'reverting':
      if (state.replace) return `stopping the unfinished batch of the restart of ${state.to}`;
      return `rolling back to ${state.from ?? 'nothing'}`;
    case 'replacing': {
      const replace = state.replace;
      if (!replace) return `replacing ${state.to}`;
      const total = Math.max(1, Math.ceil(state.instances / replace.batchSize));
      const doing = replace.retiring
        ? 'draining old instances'
        : 'waiting for the new instances to be healthy';
      return `replacing the instances of ${state.to}: batch ${replace.batch + 1}/${total}, ${doing}`;
    }
    case 'done':
      return state.status;
  }
}

/** A weight an operator set: by whom, and what the step's own is. */
function describeOverride(state: DeploymentState): string {
  if (state.weightOverride === null || state.strategy.kind !== 'canary') return '';
  const own = state.strategy.steps[state.step]?.weight;
  return ` (set by ${state.weightOverride.actor}${own === undefined ? '' : `; the step's own weight is ${own}%`})`;
}

/** Why a canary step is not moving on: paused (and why), or waiting for enough requests. */
function describeHold(state: DeploymentState): string {
  const reason = state.pauseReason;
  if (state.status === 'paused' && reason?.kind === 'inconclusive') {
    const min = state.strategy.kind === 'canary' ? state.strategy.analysis.minRequests : 0;
    const seen = reason.traffic ? `${reason.traffic.requests}/${min} requests` : 'no traffic counts';
    return ` (paused: too few requests to judge, ${seen}; resume accepts the step, promote goes to 100%, abort rolls back)`;
  }
  if (state.status === 'paused') return ' (paused)';
  return state.waitingForTraffic ? ' (waiting for enough requests)' : '';
}

/** The analysis settings a deployment persisted before they existed runs with (the config defaults). */
const ANALYSIS_DEFAULTS = { maxWaitMs: 5 * 60_000, inconclusive: 'pause' } as const;

/**
 * A persisted state as this engine expects it. A deployment interrupted under an older Ferry resumes
 * under this one: fields added since then get the values that mean "as before" (no after_switch
 * phase, no retry pending, not waiting for traffic, the step's own weight, no trigger known),
 * analysis settings their defaults.
 */
export function upgradeDeploymentState(persisted: DeploymentState): DeploymentState {
  const state = persisted as Partial<DeploymentState> & DeploymentState;
  const strategy =
    state.strategy.kind === 'canary'
      ? { ...state.strategy, analysis: { ...ANALYSIS_DEFAULTS, ...state.strategy.analysis } }
      : state.strategy;
  return {
    ...state,
    strategy,
    afterSwitchHook: state.afterSwitchHook ?? false,
    waitingForTraffic: state.waitingForTraffic ?? false,
    pauseReason: state.pauseReason ?? null,
    retry: state.retry ?? null,
    weightOverride: state.weightOverride ?? null,
    replace: state.replace ?? null,
    trigger: state.trigger ?? null,
  };
}
