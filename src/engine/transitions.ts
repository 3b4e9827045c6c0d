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
  if (state.from !== null && state.from !== state.to) weights[state.from] = 100 - weight;
  return { type: 'set-traffic', weights };
}

/** All traffic on the new release; the old one drains and stops. */
export function cutOver(state: DeploymentState, now: number, how: string): StepResult {
  const next = moveTo(
    state,
    { phase: 'retiring', phaseSince: now, weight: 100, pausedRemainingMs: null },
    now,
  );
  const effects: EngineEffect[] = [
    record(`${how}: switching`),
    trafficAt(next, 100),
    record(`100% of traffic on ${state.to}`),
  ];
  const old = state.from;
  if (old === null || old === state.to || state.strategy.kind === 'all-at-once')
    return succeed(next, now, effects);
  effects.push({ type: 'retire', version: old });
  return result(next, ...effects);
}

export function succeed(state: DeploymentState, now: number, effects: EngineEffect[] = []): StepResult {
  const next = moveTo(state, { status: 'succeeded', phase: 'done', phaseSince: now, weight: 100 }, now);
  return result(
    next,
    ...effects,
    { type: 'mark-release', version: state.to, verdict: 'good', reason: `deployment ${state.id} succeeded` },
    record(`deployment succeeded: ${state.to} serves ${state.app} in ${state.env}`),
  );
}

/** Start going back to the previous release, after a failure or a user's abort. */
export function beginRevert(
  state: DeploymentState,
  now: number,
  why: { failure: Failure } | { abort: true },
): StepResult {
  const failure = 'failure' in why ? why.failure : null;
  const next = moveTo(
    state,
    {
      status: 'rolling-back',
      phase: 'reverting',
      phaseSince: now,
      pausedRemainingMs: null,
      failure: failure ?? state.failure,
      revertReason: failure ? 'failure' : 'abort',
      trafficRestored: false,
    },
    now,
  );
  const effects: EngineEffect[] = [];
  if (failure) {
    effects.push(record(`${failure.code}: ${failure.message}`, { failure }), {
      type: 'mark-release',
      version: state.to,
      verdict: 'bad',
      reason: failure.message,
    });
  } else {
    effects.push(record('aborted by request: going back to ' + (state.from ?? 'nothing (first deployment)')));
  }
  return result(next, ...effects, ...revertEffects(next));
}

/** What the reverting phase needs, given how far it got (also re-issued after a daemon restart). */
export function revertEffects(state: DeploymentState): EngineEffect[] {
  if (state.from === null || state.from === state.to) return [{ type: 'retire', version: state.to }];
  if (state.trafficRestored) {
    return [trafficBack(state), { type: 'retire', version: state.to }];
  }
  return [{ type: 'ensure-instances', version: state.from, count: state.instances }];
}

export function trafficBack(state: DeploymentState): EngineEffect {
  return { type: 'set-traffic', weights: { [state.from!]: 100 } };
}

/** The final status once the new release is retired during a revert. */
export function finishRevert(state: DeploymentState, now: number): StepResult {
  const status =
    state.revertReason === 'abort'
      ? 'aborted'
      : state.from === null || state.from === state.to
        ? 'failed'
        : 'rolled-back';
  const next = moveTo(state, { status, phase: 'done', phaseSince: now, weight: 0 }, now);
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
  const next = moveTo(state, { status: 'failed', phase: 'done', phaseSince: now }, now);
  return result(
    next,
    record(`deployment failed: could not bring ${state.from ?? 'the previous release'} back: ${why}`),
  );
}
