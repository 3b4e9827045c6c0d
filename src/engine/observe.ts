import { formatDuration } from '../lib/duration.js';
import { describeWindow, judgeWindow } from './analysis.js';
import {
  beginRevert,
  cutOver,
  giveUp,
  hasPrevious,
  moveTo,
  record,
  result,
  trafficAt,
  trafficBack,
} from './transitions.js';
import type {
  DeploymentState,
  EngineEffect,
  EngineEvent,
  Failure,
  ReleaseObservation,
  StepResult,
  TrafficWindow,
} from './types.js';

type Observed = Extract<EngineEvent, { type: 'observed' }>;

/** Waiting for the new release's instances to be healthy, within the strategy's deadline. */
export function observeStarting(state: DeploymentState, event: Observed, now: number): StepResult {
  const { target } = event;
  if (target.failed > 0) return beginRevert(state, now, { failure: unhealthy(target) });
  if (target.healthy >= state.instances) {
    const healthy = `${target.healthy}/${state.instances} instance(s) of ${state.to} healthy`;
    if (state.strategy.kind !== 'canary' || state.kind === 'rollback') return cutOver(state, now, healthy);
    if (!hasPrevious(state)) {
      const skipped = cutOver(state, now, healthy);
      return result(
        skipped.state,
        record(
          `first deployment of ${state.app} in ${state.env}: no previous release to compare a canary against, so its steps are skipped`,
        ),
        ...skipped.effects,
      );
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

/**
 * A canary step: the canary's instances must stay healthy and its errors within the allowed rate at
 * every observation. The step passes once its pause has elapsed AND its window saw enough requests;
 * short of them it waits up to the analysis' maxWaitMs, then it is inconclusive.
 */
export function observeShifting(state: DeploymentState, event: Observed, now: number): StepResult {
  if (state.strategy.kind !== 'canary') return result(state);
  const { target, traffic } = event;
  if (target.failed > 0) return beginRevert(state, now, { failure: unhealthy(target) });
  const { analysis } = state.strategy;
  const verdict = judgeWindow(traffic, analysis);
  if (verdict === 'failing') {
    return beginRevert(state, now, {
      failure: {
        code: 'FERRY_E_ANALYSIS_FAILED',
        message: `canary step ${state.step + 1} at ${state.weight}%: ${describeWindow(traffic)} is above ${(analysis.maxErrorRate * 100).toFixed(1)}% (counted over at least ${analysis.minRequests} requests)`,
        evidence: { ...target.evidence, traffic },
      },
    });
  }
  if (state.status === 'paused' || now - state.phaseSince < currentPauseMs(state)) return result(state);
  if (verdict === 'enough')
    return passStep(state, now, `canary step ${state.step + 1} passed: ${describeWindow(traffic)}`, traffic);
  return awaitTraffic(state, now, traffic, null);
}

/** A tick instead of an observation in a canary step: its deadline still applies. */
export function unobservedShifting(state: DeploymentState, now: number, why: string): StepResult {
  if (state.strategy.kind !== 'canary' || state.status === 'paused') return result(state);
  if (now - state.phaseSince < currentPauseMs(state)) return result(state);
  return awaitTraffic(state, now, null, why);
}

/** The step's pause is over but its window is short of minRequests: extend it, or give up waiting. */
function awaitTraffic(
  state: DeploymentState,
  now: number,
  traffic: TrafficWindow | null,
  unobserved: string | null,
): StepResult {
  if (state.strategy.kind !== 'canary') return result(state);
  const { minRequests, maxWaitMs, inconclusive } = state.strategy.analysis;
  const stepName = `canary step ${state.step + 1}`;
  const pauseMs = currentPauseMs(state);
  if (now - state.phaseSince >= pauseMs + maxWaitMs) {
    const seen = traffic
      ? `${traffic.requests}/${minRequests} requests in ${formatDuration(pauseMs + maxWaitMs)}, too few to judge`
      : `the router's counters could not be read (${unobserved ?? 'unknown'})`;
    const message = `${stepName} at ${state.weight}% is inconclusive: ${seen}`;
    if (inconclusive === 'fail') {
      // Nothing was proven against the release: it goes back, but the ledger does not call it bad.
      return beginRevert(state, now, {
        failure: {
          code: 'FERRY_E_ANALYSIS_INCONCLUSIVE',
          message,
          ...(traffic ? { evidence: { traffic } } : {}),
        },
        markBad: false,
      });
    }
    const on = `${state.app} --env ${state.env}`;
    const next = moveTo(
      state,
      { status: 'paused', pausedRemainingMs: 0, pauseReason: { kind: 'inconclusive', traffic } },
      now,
    );
    return result(
      next,
      record(
        `${message}; paused: \`ferry resume ${on}\` accepts the step without enough evidence, \`ferry promote ${on}\` goes to 100%, \`ferry abort ${on}\` rolls back`,
        traffic ? { traffic } : undefined,
      ),
    );
  }
  if (state.waitingForTraffic || !traffic) return result(state);
  return result(
    moveTo(state, { waitingForTraffic: true }, now),
    record(
      `step ${state.step + 1}: ${traffic.requests}/${minRequests} requests so far; waiting up to ${formatDuration(maxWaitMs)} for enough traffic`,
      { traffic },
    ),
  );
}

/** The step passed (or was accepted): on to the next one, or to 100% after the last. */
export function passStep(
  state: DeploymentState,
  now: number,
  message: string,
  traffic: TrafficWindow | null,
): StepResult {
  if (state.strategy.kind !== 'canary') return result(state);
  const passed = record(message, traffic ? { traffic } : undefined);
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
    {
      phase: 'shifting',
      step: index,
      weight: stepSpec.weight,
      weightOverride: null,
      phaseSince: now,
      waitingForTraffic: false,
      pauseReason: null,
    },
    now,
  );
  return result(
    next,
    record(
      `${why}: canary step ${index + 1}/${state.strategy.steps.length}: ${stepSpec.weight}% for ${formatDuration(stepSpec.pauseMs)}`,
    ),
    trafficAt(next, stepSpec.weight),
    { type: 'open-window' },
  );
}

export function currentPauseMs(state: DeploymentState): number {
  return state.strategy.kind === 'canary' ? (state.strategy.steps[state.step]?.pauseMs ?? 0) : 0;
}

/** All traffic is on the new release and its after_switch hook runs: it must stay healthy meanwhile. */
export function observeAfterSwitch(state: DeploymentState, event: Observed, now: number): StepResult {
  if (event.target.failed > 0) return beginRevert(state, now, { failure: unhealthy(event.target) });
  return result(state);
}

/** Going back: once the previous release is healthy, traffic returns to it and the new one retires. */
export function observeReverting(state: DeploymentState, event: Observed, now: number): StepResult {
  const previous = event.previous;
  if (!hasPrevious(state) || state.trafficRestored || !previous) return result(state);
  const overdue = now - state.phaseSince > state.strategy.healthDeadlineMs;
  if (previous.healthy >= state.instances || (overdue && previous.healthy > 0)) {
    const next = moveTo(state, { weight: 0, trafficRestored: true }, now);
    const effects: EngineEffect[] = [
      ...trafficBack(next),
      record(`100% of traffic back on ${state.from}`),
      { type: 'retire', version: state.to },
    ];
    return result(next, ...effects);
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
