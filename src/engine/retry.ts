import { formatDuration } from '../lib/duration.js';
import { recoverEffects } from './recover.js';
import { moveTo, record, result } from './transitions.js';
import type { DeploymentState, Failure, StepResult } from './types.js';

const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 30_000;

/** The wait before the phase's effects are issued again after `attempt` failures: 1 s, 2 s, 4 s... 30 s. */
export function retryDelayMs(attempt: number): number {
  return Math.min(FIRST_RETRY_MS * 2 ** Math.max(0, attempt - 1), MAX_RETRY_MS);
}

/**
 * An effect of the current phase failed: its effects (all idempotent) are issued again after a
 * backoff. The time is kept in the state and the runtime's ticks drive it, so a daemon restart
 * neither loses the retry nor leaves the deployment waiting on an effect nobody runs.
 */
export function scheduleRetry(state: DeploymentState, now: number, failure: Failure): StepResult {
  const attempt = (state.retry?.attempt ?? 0) + 1;
  const delay = retryDelayMs(attempt);
  const next = moveTo(state, { retry: { attempt, at: now + delay, failure } }, now);
  return result(
    next,
    record(
      `${failure.message}; trying again in ${formatDuration(delay)} (failure ${attempt} in phase ${state.phase})`,
      {
        failure,
      },
    ),
  );
}

/** On a tick: issue the phase's effects again once a scheduled retry is due. */
export function retryIfDue(state: DeploymentState, now: number): StepResult {
  const retry = state.retry;
  if (retry === null || retry.at === null || now < retry.at) return result(state);
  const next = moveTo(state, { retry: { ...retry, at: null } }, now);
  return result(
    next,
    record(`trying the ${state.phase} phase's effects again after ${retry.attempt} failure(s)`),
    ...recoverEffects(next),
  );
}

/** A retry belongs to the phase (and canary step) that scheduled it: a later one starts afresh. */
export function dropStaleRetry(before: DeploymentState, out: StepResult): StepResult {
  const after = out.state;
  if (after.retry === null) return out;
  const moved =
    after.phase !== before.phase ||
    after.step !== before.step ||
    after.trafficRestored !== before.trafficRestored;
  return moved ? { state: { ...after, retry: null }, effects: out.effects } : out;
}
