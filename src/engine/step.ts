import { commandError } from './commands.js';
import { observeShifting, observeStarting, observeReverting } from './observe.js';
import { recoverEffects } from './recover.js';
import {
  beginRevert,
  cutOver,
  failUnchanged,
  finishRevert,
  giveUp,
  moveTo,
  record,
  result,
  succeed,
  trafficAt,
} from './transitions.js';
import {
  FINAL_STATUSES,
  type DeploymentCommand,
  type DeploymentState,
  type EngineEvent,
  type StepResult,
} from './types.js';

/**
 * The deployment state machine: (state, event, now) -> (next state, effects). Pure: no I/O, no
 * clock. The runtime persists `state` before it executes `effects`, and feeds their outcomes and
 * periodic observations back as events.
 */
export function step(state: DeploymentState, event: EngineEvent, now: number): StepResult {
  if (FINAL_STATUSES.has(state.status)) return result(state);
  switch (event.type) {
    case 'begin':
      return begin(state, now);
    case 'recover':
      return recover(state, now);
    case 'installed':
      return installed(state, now);
    case 'install-failed':
      return state.phase === 'installing' ? failUnchanged(state, now, event.failure) : result(state);
    case 'start-failed':
      if (state.phase === 'starting' || state.phase === 'shifting')
        return beginRevert(state, now, { failure: event.failure });
      if (state.phase === 'reverting') return giveUp(state, now, event.failure.message);
      return result(state);
    case 'retired':
      return retired(state, event.version, now);
    case 'retire-failed':
      return result(
        state,
        record(`could not retire ${event.version}: ${event.failure.message}`, { failure: event.failure }),
      );
    case 'observed':
      if (state.phase === 'starting') return observeStarting(state, event, now);
      if (state.phase === 'shifting') return observeShifting(state, event, now);
      if (state.phase === 'reverting') return observeReverting(state, event, now);
      return result(state);
    case 'command':
      return command(state, event.command, now);
  }
}

function begin(state: DeploymentState, now: number): StepResult {
  if (state.status !== 'pending') return result(state);
  const next = moveTo(state, { status: 'running', phase: 'installing', phaseSince: now }, now);
  const verb = state.kind === 'rollback' ? 'rolling back' : 'deploying';
  const from = state.from ?? 'nothing';
  return result(
    next,
    record(`${verb} ${state.app} in ${state.env}: ${from} -> ${state.to} (${state.strategy.kind})`),
    { type: 'install', version: state.to },
  );
}

function recover(state: DeploymentState, now: number): StepResult {
  // A canary step's pause restarts from the beginning: the same way after every restart.
  const next =
    state.phase === 'shifting' && state.status === 'running'
      ? moveTo(state, { phaseSince: now }, now)
      : state;
  return result(
    next,
    record(`resumed after a daemon restart in phase ${state.phase}`),
    ...recoverEffects(next),
  );
}

function installed(state: DeploymentState, now: number): StepResult {
  if (state.phase !== 'installing') return result(state);
  if (state.strategy.kind === 'all-at-once' && state.from !== null && state.from !== state.to) {
    const next = moveTo(state, { phase: 'stopping-old', phaseSince: now }, now);
    return result(next, record(`stopping ${state.from} first (all-at-once)`), {
      type: 'retire',
      version: state.from,
    });
  }
  return startNew(state, now);
}

function startNew(state: DeploymentState, now: number): StepResult {
  const next = moveTo(state, { phase: 'starting', phaseSince: now }, now);
  return result(
    next,
    record(`starting ${state.instances} instance(s) of ${state.to}; waiting for health`),
    { type: 'ensure-instances', version: state.to, count: state.instances },
    trafficAt(next, 0),
  );
}

function retired(state: DeploymentState, version: string, now: number): StepResult {
  if (state.phase === 'stopping-old' && version === state.from) return startNew(state, now);
  if (state.phase === 'retiring' && version === state.from) return succeed(state, now);
  if (state.phase === 'reverting' && version === state.to) return finishRevert(state, now);
  return result(state);
}

function command(state: DeploymentState, cmd: DeploymentCommand, now: number): StepResult {
  if (commandError(state, cmd) !== null) return result(state);
  switch (cmd) {
    case 'pause': {
      const remaining = Math.max(0, currentPauseMs(state) - (now - state.phaseSince));
      return result(
        moveTo(state, { status: 'paused', pausedRemainingMs: remaining }, now),
        record('paused by request'),
      );
    }
    case 'resume': {
      const phaseSince = now - (currentPauseMs(state) - (state.pausedRemainingMs ?? 0));
      return result(
        moveTo(state, { status: 'running', pausedRemainingMs: null, phaseSince }, now),
        record('resumed by request'),
      );
    }
    case 'promote':
      return cutOver(state, now, 'promoted by request, skipping the remaining steps');
    case 'abort':
      if (state.phase === 'installing') {
        return result(
          moveTo(state, { status: 'aborted', phase: 'done', phaseSince: now }, now),
          record('aborted by request before anything changed'),
        );
      }
      return beginRevert(state, now, { abort: true });
  }
}

function currentPauseMs(state: DeploymentState): number {
  return state.strategy.kind === 'canary' ? (state.strategy.steps[state.step]?.pauseMs ?? 0) : 0;
}
