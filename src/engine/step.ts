import { setCanaryWeight } from './canary-weight.js';
import { applyCommand } from './commands.js';
import {
  observeAfterSwitch,
  observeReverting,
  observeShifting,
  observeStarting,
  unobservedShifting,
} from './observe.js';
import { recoverEffects } from './recover.js';
import { beginReplacing, failRestart, observeReplacing, retiredReplacing } from './restart.js';
import { dropStaleRetry, retryIfDue, scheduleRetry } from './retry.js';
import {
  beginRevert,
  failUnchanged,
  finishRevert,
  giveUp,
  moveTo,
  record,
  result,
  retireOld,
  succeed,
  trafficAt,
} from './transitions.js';
import {
  FINAL_STATUSES,
  type DeploymentHook,
  type DeploymentState,
  type EngineEvent,
  type Failure,
  type StepResult,
} from './types.js';

/**
 * The deployment state machine: (state, event, now) -> (next state, effects). Pure: no I/O, no
 * clock. The runtime persists `state` before it executes `effects`, and feeds their outcomes,
 * periodic observations and ticks back as events.
 */
export function step(state: DeploymentState, event: EngineEvent, now: number): StepResult {
  if (FINAL_STATUSES.has(state.status)) return result(state);
  return dropStaleRetry(state, apply(state, event, now));
}

function apply(state: DeploymentState, event: EngineEvent, now: number): StepResult {
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
      if (state.replace !== null)
        return state.phase === 'replacing' ? failRestart(state, now, event.failure) : result(state);
      if (state.phase === 'starting' || state.phase === 'shifting')
        return beginRevert(state, now, { failure: event.failure });
      if (state.phase === 'reverting') return giveUp(state, now, event.failure.message);
      return result(state);
    case 'retired':
      return retired(state, event.version, now);
    case 'retire-failed':
      return retireFailed(state, event.version, event.failure, now);
    case 'effect-failed':
      if (state.status === 'pending') return result(state);
      return scheduleRetry(state, now, {
        ...event.failure,
        message: `${event.effect} failed: ${event.failure.message}`,
      });
    case 'hook-passed':
    case 'hook-failed':
      return hookDone(state, event.hook, event.type === 'hook-failed' ? event.failure : null, now);
    case 'tick': {
      const due = retryIfDue(state, now);
      if (due.state !== state || state.phase !== 'shifting' || event.unobserved === undefined) return due;
      return unobservedShifting(state, now, event.unobserved);
    }
    case 'observed': {
      if (state.replace !== null) {
        const due = retryIfDue(state, now);
        const observed = observeReplacing(due.state, event, now);
        return result(observed.state, ...due.effects, ...observed.effects);
      }
      const due = retryIfDue(state, now);
      const observed = observe(due.state, event, now);
      return result(observed.state, ...due.effects, ...observed.effects);
    }
    case 'set-weight':
      return setCanaryWeight(state, event.weight, now, event.actor ?? 'request', event.step);
    case 'command':
      return applyCommand(state, event.command, now, {
        ...(event.actor !== undefined ? { actor: event.actor } : {}),
        ...(event.force !== undefined ? { force: event.force } : {}),
      });
  }
}

function observe(
  state: DeploymentState,
  event: Extract<EngineEvent, { type: 'observed' }>,
  now: number,
): StepResult {
  switch (state.phase) {
    case 'starting':
      return observeStarting(state, event, now);
    case 'shifting':
      return observeShifting(state, event, now);
    case 'after-switch':
      return observeAfterSwitch(state, event, now);
    case 'reverting':
      return observeReverting(state, event, now);
    default:
      return result(state);
  }
}

function begin(state: DeploymentState, now: number): StepResult {
  if (state.status !== 'pending') return result(state);
  // A restart has nothing to install: the release serves already.
  if (state.kind === 'restart') return beginReplacing(state, now);
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
  const restartStep = state.phase === 'shifting' && state.status === 'running';
  // The effects go out again now (a new daemon may well succeed); the failures so far are kept.
  const retry = state.retry ? { ...state.retry, at: null } : null;
  const next = moveTo(
    state,
    restartStep ? { phaseSince: now, waitingForTraffic: false, retry } : { retry },
    now,
  );
  return result(
    next,
    record(`resumed after a daemon restart in phase ${state.phase}`),
    ...recoverEffects(next),
  );
}

function installed(state: DeploymentState, now: number): StepResult {
  if (state.phase !== 'installing') return result(state);
  // The serving release deployed again (forced): installed (its before_start ran), it restarts.
  if (state.replace !== null) return beginReplacing(state, now);
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

/** The release each phase retires: the old one on the way forward, the new one on the way back. */
function retiring(state: DeploymentState): string | null {
  if (state.phase === 'stopping-old' || state.phase === 'retiring') return state.from;
  if (state.phase === 'reverting') return state.to;
  return null;
}

function retired(state: DeploymentState, version: string, now: number): StepResult {
  if (state.replace !== null) return version === state.to ? retiredReplacing(state, now) : result(state);
  if (version !== retiring(state)) return result(state);
  if (state.phase === 'stopping-old') return startNew(state, now);
  if (state.phase === 'retiring') return succeed(state, now);
  return state.phase === 'reverting' &&
    (state.trafficRestored || state.from === null || state.from === state.to)
    ? finishRevert(state, now)
    : result(state);
}

function retireFailed(state: DeploymentState, version: string, failure: Failure, now: number): StepResult {
  const message = `could not retire ${version}: ${failure.message}`;
  if (state.replace !== null) {
    const waiting = state.phase === 'reverting' || (state.phase === 'replacing' && state.replace.retiring);
    return waiting
      ? scheduleRetry(state, now, { ...failure, message })
      : result(state, record(message, { failure }));
  }
  if (version !== retiring(state)) return result(state, record(message, { failure }));
  return scheduleRetry(state, now, { ...failure, message });
}

/** The after_switch hook finished: the old release retires, or (on a failed deploy) traffic goes back. */
function hookDone(
  state: DeploymentState,
  hook: DeploymentHook,
  failure: Failure | null,
  now: number,
): StepResult {
  if (state.phase !== 'after-switch') return result(state);
  if (failure === null) return retireOld(state, now, [record(`${hook} hook passed`)]);
  if (state.kind === 'rollback') {
    // Going back to the release this rollback leaves would be worse than a failed notification.
    return retireOld(state, now, [
      record(
        `${failure.message}; the rollback goes on: returning to ${state.from ?? 'nothing'} would be worse`,
        {
          failure,
        },
      ),
    ]);
  }
  return beginRevert(state, now, { failure });
}
