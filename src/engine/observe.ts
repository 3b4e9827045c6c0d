import {
  beginRevert,
  cutOver,
  giveUp,
  moveTo,
  record,
  result,
  trafficAt,
  trafficBack,
} from './transitions.js';
import type { DeploymentState, EngineEvent, Failure, ReleaseObservation, StepResult } from './types.js';

type Observed = Extract<EngineEvent, { type: 'observed' }>;

/** Waiting for the new release's instances to be healthy, within the strategy's deadline. */
export function observeStarting(state: DeploymentState, event: Observed, now: number): StepResult {
  const { target } = event;
  if (target.failed > 0) return beginRevert(state, now, { failure: unhealthy(target) });
  if (target.healthy >= state.instances) {
    if (state.strategy.kind !== 'canary' || state.kind === 'rollback') {
      return cutOver(state, now, `${target.healthy}/${state.instances} instance(s) of ${state.to} healthy`);
    }
    return enterStep(state, 0, now, `${state.to} healthy`);
  }
  if (now - state.phaseSince > state.strategy.healthDeadlineMs) {
    return beginRevert(state, now, {
      failure: {
        code: 'FERRY_E_HEALTH_TIMEOUT',
        message: `${state.to} was not healthy within ${state.strategy.healthDeadlineMs}ms: ${target.healthy}/${state.instances} instance(s) healthy`,
        ...(target.evidence ? { evidence: target.evidence } : {}),
      },
    });
  }
  return result(state);
}

/** A canary step: watch health and the error rate; at the end of the pause, go on. */
export function observeShifting(state: DeploymentState, event: Observed, now: number): StepResult {
  if (state.strategy.kind !== 'canary') return result(state);
  const { target, traffic } = event;
  if (target.failed > 0) return beginRevert(state, now, { failure: unhealthy(target) });
  const { maxErrorRate, minRequests } = state.strategy.analysis;
  if (
    traffic.requests > 0 &&
    traffic.requests >= minRequests &&
    traffic.errors / traffic.requests > maxErrorRate
  ) {
    const rate = ((100 * traffic.errors) / traffic.requests).toFixed(1);
    return beginRevert(state, now, {
      failure: {
        code: 'FERRY_E_ANALYSIS_FAILED',
        message: `canary step ${state.step + 1} at ${state.weight}%: error rate ${rate}% (${traffic.errors}/${traffic.requests}) is above ${(maxErrorRate * 100).toFixed(1)}%`,
        evidence: { ...target.evidence, traffic },
      },
    });
  }
  if (state.status === 'paused') return result(state);
  const current = state.strategy.steps[state.step];
  if (current && now - state.phaseSince < current.pauseMs) return result(state);
  const passed = record(
    `canary step ${state.step + 1} passed: ${traffic.errors}/${traffic.requests} errors`,
    { traffic },
  );
  const nextIndex = state.step + 1;
  if (nextIndex < state.strategy.steps.length) {
    const entered = enterStep(state, nextIndex, now, 'next step');
    return result(entered.state, passed, ...entered.effects);
  }
  const done = cutOver(state, now, 'all canary steps passed');
  return result(done.state, passed, ...done.effects);
}

function enterStep(state: DeploymentState, index: number, now: number, why: string): StepResult {
  if (state.strategy.kind !== 'canary') return result(state);
  const stepSpec = state.strategy.steps[index]!;
  const next = moveTo(
    state,
    { phase: 'shifting', step: index, weight: stepSpec.weight, phaseSince: now },
    now,
  );
  return result(
    next,
    record(
      `${why}: canary step ${index + 1}/${state.strategy.steps.length}: ${stepSpec.weight}% for ${stepSpec.pauseMs}ms`,
    ),
    trafficAt(next, stepSpec.weight),
    { type: 'open-window' },
  );
}

/** Going back: once the previous release is healthy, traffic returns to it and the new one retires. */
export function observeReverting(state: DeploymentState, event: Observed, now: number): StepResult {
  const previous = event.previous;
  if (state.from === null || state.from === state.to || state.trafficRestored || !previous)
    return result(state);
  const overdue = now - state.phaseSince > state.strategy.healthDeadlineMs;
  if (previous.healthy >= state.instances || (overdue && previous.healthy > 0)) {
    const next = moveTo(state, { weight: 0, trafficRestored: true }, now);
    return result(next, trafficBack(next), record(`100% of traffic back on ${state.from}`), {
      type: 'retire',
      version: state.to,
    });
  }
  if (overdue) return giveUp(state, now, `no instance of ${state.from} became healthy`);
  return result(state);
}

function unhealthy(target: ReleaseObservation): Failure {
  return {
    code: 'FERRY_E_UNHEALTHY',
    message: `${target.failed} instance(s) of ${target.version} failed (unhealthy or crash-looping)`,
    ...(target.evidence ? { evidence: target.evidence } : {}),
  };
}
