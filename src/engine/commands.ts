import { endAtOnce } from './force.js';
import { failRestart } from './restart.js';
import { currentPauseMs, passStep } from './observe.js';
import { beginRevert, cutOver, moveTo, record, result } from './transitions.js';
import {
  FINAL_STATUSES,
  type DeploymentCommand,
  type DeploymentState,
  type Phase,
  type StepResult,
} from './types.js';

/** Phases a plain abort can leave by going back to the previous release. */
const ABORTABLE: ReadonlySet<Phase> = new Set([
  'installing',
  'stopping-old',
  'starting',
  'shifting',
  'after-switch',
  'replacing',
]);

/**
 * Why a user's command cannot apply to the deployment now, or null when it can. The runtime turns a
 * non-null answer into FERRY_E_ILLEGAL_STATE with the current state in the message; every answer
 * names a command that does apply.
 */
export function commandError(
  state: DeploymentState,
  cmd: DeploymentCommand,
  opts: { force?: boolean } = {},
): string | null {
  const where = `deployment ${state.id} is ${state.status} (phase ${state.phase})`;
  if (FINAL_STATUSES.has(state.status)) return `${where}: it has ended; nothing to ${cmd}`;
  const on = `${state.app} --env ${state.env}`;
  switch (cmd) {
    case 'pause':
      if (state.status === 'running' && state.phase === 'shifting') return null;
      return `${where}: only a running canary step can be paused`;
    case 'resume':
      return state.status === 'paused' ? null : `${where}: only a paused deployment can be resumed`;
    case 'promote':
      if ((state.status === 'running' || state.status === 'paused') && state.phase === 'shifting')
        return null;
      return `${where}: only a deployment in its canary steps can be promoted`;
    case 'abort':
      if (opts.force || ABORTABLE.has(state.phase)) return null;
      if (state.phase === 'retiring')
        return `${where}: all traffic is on ${state.to} already and ${state.from ?? 'the old release'} is retiring; wait for it, or end the deployment at once (${state.to} keeps serving) with: ferry abort ${on} --force`;
      if (state.replace !== null)
        return `${where}: it is already stopping its unfinished batch; end it at once with: ferry abort ${on} --force`;
      return `${where}: it is already going back to ${state.from ?? 'nothing'}; finish the revert at once with: ferry abort ${on} --force`;
  }
}

/** Applies a user's command; one that does not apply (see commandError) changes nothing. */
export function applyCommand(
  state: DeploymentState,
  cmd: DeploymentCommand,
  now: number,
  opts: { actor?: string; force?: boolean },
): StepResult {
  if (commandError(state, cmd, opts) !== null) return result(state);
  const actor = opts.actor ?? 'request';
  switch (cmd) {
    case 'pause': {
      const remaining = Math.max(0, currentPauseMs(state) - (now - state.phaseSince));
      return result(
        moveTo(
          state,
          { status: 'paused', pausedRemainingMs: remaining, pauseReason: { kind: 'request' } },
          now,
        ),
        record(`paused by ${actor}`),
      );
    }
    case 'resume':
      return resume(state, now, actor);
    case 'promote':
      return cutOver(state, now, `promoted by ${actor}, skipping the remaining steps`);
    case 'abort':
      if (opts.force) return endAtOnce(state, now, actor);
      if (state.phase === 'replacing') return failRestart(state, now, null, actor);
      if (state.phase === 'installing') {
        return result(
          moveTo(state, { status: 'aborted', phase: 'done', phaseSince: now, retry: null }, now),
          record(`aborted by ${actor} before anything changed`),
        );
      }
      return beginRevert(state, now, { abort: true, actor });
  }
}

/**
 * A step paused for too few requests: resuming accepts it as passed, on the operator's word. Any
 * other pause: the step's clock goes on where it stopped.
 */
function resume(state: DeploymentState, now: number, actor: string): StepResult {
  const reason = state.pauseReason;
  const running = { status: 'running' as const, pausedRemainingMs: null, pauseReason: null };
  if (reason?.kind === 'inconclusive' && state.strategy.kind === 'canary') {
    const min = state.strategy.analysis.minRequests;
    const seen = reason.traffic ? `${reason.traffic.requests}/${min} requests` : 'no traffic counts';
    return passStep(
      moveTo(state, running, now),
      now,
      `canary step ${state.step + 1} accepted by ${actor} without enough evidence (${seen})`,
      reason.traffic,
    );
  }
  const phaseSince = now - (currentPauseMs(state) - (state.pausedRemainingMs ?? 0));
  return result(moveTo(state, { ...running, phaseSince }, now), record(`resumed by ${actor}`));
}
