import type { DeploymentState, EngineEffect, Failure, StepResult } from './types.js';

/** Small state changes shared by the phases. Each returns the next state and the effects it needs. */

export function moveTo(
  state: DeploymentState,
  patch: Partial<DeploymentState>,
  now: number,
): DeploymentState {
  return { ...state, ...patch, updatedAt: now };
}

export function result(state: DeploymentState, ...effects: EngineEffect[]): StepResult {
  return { state, effects };
}

export function record(message: string, data?: Record<string, unknown>): EngineEffect {
  return data ? { type: 'record', message, data } : { type: 'record', message };
}

/** Traffic for the new release at `weight` percent, the rest on the old one (if any). */
export function trafficAt(state: DeploymentState, weight: number): EngineEffect {
  const weights: Record<string, number> = { [state.to]: weight };
  if (hasPrevious(state)) weights[state.from!] = 100 - weight;
  return { type: 'set-traffic', weights };
}

/** A release served before this deployment, other than the one it deploys. */
export function hasPrevious(state: DeploymentState): boolean {
  return state.from !== null && state.from !== state.to;
}

/**
 * All traffic on the new release. With an after_switch hook, the deployment waits for it (the old
 * release still runs, so a failing hook can send traffic back at once); then the old one retires.
 */
export function cutOver(state: DeploymentState, now: number, how: string): StepResult {
  const effects: EngineEffect[] = [record(`${how}: switching`)];
  const switched = moveTo(
    state,
    {
      status: 'running',
      phaseSince: now,
      weight: 100,
      weightOverride: null,
      pausedRemainingMs: null,
      pauseReason: null,
      waitingForTraffic: false,
    },
    now,
  );
  effects.push(trafficAt(switched, 100), record(`100% of traffic on ${state.to}`));
  if (state.afterSwitchHook) {
    const next = moveTo(switched, { phase: 'after-switch' }, now);
    return result(next, ...effects, ...afterSwitchEffects(next));
  }
  return retireOld(switched, now, effects);
}

/** The after-switch phase's effects: `current` points at the new release first (hooks may rely on it). */
export function afterSwitchEffects(state: DeploymentState): EngineEffect[] {
  return [
    { type: 'activate', version: state.to },
    record(`running the after_switch hook of ${state.to}`),
    { type: 'run-hook', hook: 'after_switch', version: state.to },
  ];
}

/** With all traffic on the new release: drain and stop the old one, or succeed when none runs. */
export function retireOld(state: DeploymentState, now: number, effects: EngineEffect[] = []): StepResult {
  if (!hasPrevious(state) || state.strategy.kind === 'all-at-once') return succeed(state, now, effects);
  const next = moveTo(state, { phase: 'retiring', phaseSince: now }, now);
  return result(next, ...effects, { type: 'retire', version: state.from! });
}

export function succeed(state: DeploymentState, now: number, effects: EngineEffect[] = []): StepResult {
  const next = moveTo(
    state,
    { status: 'succeeded', phase: 'done', phaseSince: now, weight: 100, retry: null },
    now,
  );
  return result(
    next,
    ...effects,
    { type: 'mark-release', version: state.to, verdict: 'good', reason: `deployment ${state.id} succeeded` },
    ...markLeftBehind(state),
    record(`deployment succeeded: ${state.to} serves ${state.app} in ${state.env}`),
  );
}

/** A manual rollback that succeeded marks the release it left, so the next rollback does not pick it. */
export function markLeftBehind(state: DeploymentState): EngineEffect[] {
  if (state.kind !== 'rollback' || !hasPrevious(state)) return [];
  return [
    {
      type: 'mark-release',
      version: state.from!,
      verdict: 'rolled-back',
      reason: `rolled back to ${state.to} by deployment ${state.id}`,
    },
  ];
}

/**
 * Start going back to the previous release, after a failure or a user's abort. A failure marks the
 * new release bad, unless it proved nothing either way (`markBad: false`, an inconclusive canary).
 */
export function beginRevert(
  state: DeploymentState,
  now: number,
  why: { failure: Failure; markBad?: boolean } | { abort: true; actor?: string },
): StepResult {
  const failure = 'failure' in why ? why.failure : null;
  const next = moveTo(
    state,
    {
      status: 'rolling-back',
      phase: 'reverting',
      phaseSince: now,
      pausedRemainingMs: null,
      pauseReason: null,
      waitingForTraffic: false,
      weightOverride: null,
      failure: failure ?? state.failure,
      revertReason: failure ? 'failure' : 'abort',
      trafficRestored: false,
    },
    now,
  );
  const effects: EngineEffect[] = [];
  if ('failure' in why) {
    effects.push(record(`${why.failure.code}: ${why.failure.message}`, { failure: why.failure }));
    if (why.markBad !== false)
      effects.push({ type: 'mark-release', version: state.to, verdict: 'bad', reason: why.failure.message });
  } else {
    effects.push(
      record(
        `aborted by ${why.actor ?? 'request'}: going back to ${state.from ?? 'nothing (first deployment)'}`,
      ),
    );
  }
  return result(next, ...effects, ...revertEffects(next));
}

/** What the reverting phase needs, given how far it got (also re-issued after a restart or a failure). */
export function revertEffects(state: DeploymentState): EngineEffect[] {
  if (!hasPrevious(state)) return [{ type: 'retire', version: state.to }];
  if (state.trafficRestored) return [...trafficBack(state), { type: 'retire', version: state.to }];
  return [{ type: 'ensure-instances', version: state.from!, count: state.instances }];
}

/** All traffic on the previous release, and `current` back on it (an after-switch phase moved it). */
export function trafficBack(state: DeploymentState): EngineEffect[] {
  return [
    { type: 'set-traffic', weights: { [state.from!]: 100 } },
    { type: 'activate', version: state.from! },
  ];
}

/** The final status of a revert: aborted by a user, rolled back, or failed when nothing ran before. */
export function revertStatus(state: DeploymentState): 'aborted' | 'rolled-back' | 'failed' {
  if (state.revertReason === 'abort') return 'aborted';
  return hasPrevious(state) ? 'rolled-back' : 'failed';
}

/** The final status once the new release is retired during a revert. */
export function finishRevert(state: DeploymentState, now: number): StepResult {
  const status = revertStatus(state);
  const next = moveTo(state, { status, phase: 'done', phaseSince: now, weight: 0, retry: null }, now);
  const where = state.from === null ? 'nothing serves yet' : `${state.from} serves again`;
  return result(next, record(`deployment ${status}: ${where}`));
}

/** A deployment that fails before it changed anything (e.g. the artifact could not be fetched). */
export function failUnchanged(state: DeploymentState, now: number, failure: Failure): StepResult {
  const next = moveTo(state, { status: 'failed', phase: 'done', phaseSince: now, failure }, now);
  return result(
    next,
    record(`${failure.code}: ${failure.message}`, { failure }),
    record('deployment failed: nothing was changed'),
  );
}

/** The previous release cannot be brought back either: stop trying and say so. */
export function giveUp(state: DeploymentState, now: number, why: string): StepResult {
  const next = moveTo(state, { status: 'failed', phase: 'done', phaseSince: now, retry: null }, now);
  return result(
    next,
    record(`deployment failed: could not bring ${state.from ?? 'the previous release'} back: ${why}`),
  );
}
