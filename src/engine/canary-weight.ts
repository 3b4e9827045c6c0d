import { formatDuration } from '../lib/duration.js';
import { commandError } from './commands.js';
import { currentPauseMs } from './observe.js';
import { moveTo, record, result, trafficAt } from './transitions.js';
import { FINAL_STATUSES, type DeploymentState, type StepResult } from './types.js';

/**
 * A canary share an operator may set: above 0 and at most 100, like a step's weight in ferry.yaml.
 * 0 would leave the canary without requests to judge; `ferry abort` takes its traffic away.
 */
export function isCanaryWeight(weight: number): boolean {
  return Number.isFinite(weight) && weight > 0 && weight <= 100;
}

/**
 * Why the deployment's canary share cannot be set now, or null when it can: only a canary in one of
 * its steps (phase shifting, running or paused) has a share to set. The runtime turns a non-null
 * answer into FERRY_E_ILLEGAL_STATE; every answer names the state and a command that applies.
 */
export function canaryWeightError(state: DeploymentState): string | null {
  const where = `deployment ${state.id} is ${state.status} (phase ${state.phase})`;
  const on = `${state.app} --env ${state.env}`;
  if (FINAL_STATUSES.has(state.status)) return `${where}: it has ended; no canary share to set`;
  if (state.phase === 'shifting' && (state.status === 'running' || state.status === 'paused')) return null;
  const abort = commandError(state, 'abort') === null ? `ferry abort ${on}` : `ferry abort ${on} --force`;
  if (state.replace !== null) return `${where}: a restart has no canary steps; to end it: ${abort}`;
  if (state.strategy.kind !== 'canary')
    return `${where}: a ${state.strategy.kind} ${state.kind} has no canary steps; to end it: ${abort}`;
  switch (state.phase) {
    case 'installing':
    case 'starting':
      return `${where}: its first canary step begins once ${state.to} is healthy (watch it with: ferry status ${state.app}); to end it: ${abort}`;
    case 'after-switch':
    case 'retiring':
      return `${where}: its canary steps are over, all traffic is on ${state.to}; to go back: ${abort}`;
    default:
      return `${where}: it is going back to ${state.from ?? 'nothing'}, no canary share is left to set; to finish the revert at once: ${abort}`;
  }
}

/**
 * Sets the running canary step's weight (an operator's `ferry canary APP --weight P`). The step
 * starts over at the new weight: its pause and its analysis window restart, so the step passes only
 * on evidence gathered at the share it claims (a window mixing 10% and 50% would let a weight raised
 * a moment before the pause ends pass on what 10% showed). A paused step stays paused and starts
 * over when resumed, also after an inconclusive pause: the evidence that pause was about is set
 * aside with its window. Later steps keep their own weights. A weight that does not apply (see
 * canaryWeightError, isCanaryWeight) changes nothing.
 */
export function setCanaryWeight(
  state: DeploymentState,
  weight: number,
  now: number,
  actor: string,
  /** The step the operator meant; a later one keeps its own weight. */
  forStep: number = state.step,
): StepResult {
  if (canaryWeightError(state) !== null || !isCanaryWeight(weight)) return result(state);
  if (forStep !== state.step)
    return result(
      state,
      record(
        `${weight}% asked by ${actor} for canary step ${forStep + 1} not applied: step ${state.step + 1} runs now`,
      ),
    );
  const stepName = `canary step ${state.step + 1}`;
  if (weight === state.weight)
    return result(state, record(`${stepName} is at ${weight}% already (asked by ${actor}); nothing changed`));
  const pauseMs = currentPauseMs(state);
  const paused = state.status === 'paused';
  const next = moveTo(
    state,
    {
      weight,
      weightOverride: { actor, at: now },
      phaseSince: now,
      waitingForTraffic: false,
      ...(paused ? { pausedRemainingMs: pauseMs, pauseReason: { kind: 'request' } } : {}),
    },
    now,
  );
  const own = state.strategy.kind === 'canary' ? state.strategy.steps[state.step]?.weight : undefined;
  const held = paused ? `; still paused: \`ferry resume ${state.app} --env ${state.env}\` runs it` : '';
  return result(
    next,
    record(
      `${stepName} set to ${weight}% by ${actor} (was ${state.weight}%${own === undefined ? '' : `, the step's own ${own}%`}): its pause of ${formatDuration(pauseMs)} and its analysis window start over at ${weight}%${held}`,
      { weight, previous: state.weight, actor },
    ),
    trafficAt(next, weight),
    { type: 'open-window' },
  );
}
