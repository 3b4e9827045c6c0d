import { endRestartAtOnce } from './restart.js';
import {
  hasPrevious,
  markLeftBehind,
  moveTo,
  record,
  result,
  revertStatus,
  trafficAt,
  trafficBack,
} from './transitions.js';
import type { DeploymentState, EngineEffect, StepResult } from './types.js';

/**
 * An operator's forced end (`ferry abort --force`): the deployment ends at once, in any phase, without
 * waiting on any effect (a drain, a hook, a retire that keeps failing), and leaves traffic in the
 * safest consistent place:
 * - before anything changed (installing): aborted.
 * - before or during a partial shift (stopping-old, starting, shifting): traffic back on the previous
 *   release, the new instances stopped at once; aborted.
 * - after 100% moved (after-switch, retiring): traffic stays on the new release, the old release's
 *   instances are stopped without waiting for the drain; succeeded. The release is marked good only
 *   if it passed every gate (its after_switch hook did not finish in after-switch).
 * - reverting: the revert finishes at once; its status is the revert's.
 */
export function endAtOnce(state: DeploymentState, now: number, actor: string): StepResult {
  const by = `ended at once by ${actor} (forced)`;
  const end = (status: DeploymentState['status'], weight: number) =>
    moveTo(
      state,
      {
        status,
        phase: 'done',
        phaseSince: now,
        weight,
        weightOverride: null,
        retry: null,
        pausedRemainingMs: null,
        pauseReason: null,
        waitingForTraffic: false,
      },
      now,
    );
  if (state.replace !== null && (state.phase === 'replacing' || state.phase === 'reverting'))
    return endRestartAtOnce(state, now, actor);
  switch (state.phase) {
    case 'installing':
      return result(end('aborted', 0), record(`${by} before anything changed`));
    case 'stopping-old':
    case 'starting':
    case 'shifting':
      return result(
        end('aborted', 0),
        record(`${by}: ${backTo(state)}; ${state.to} stopped without waiting for its requests`),
        ...backNow(state),
      );
    case 'after-switch':
    case 'retiring': {
      const effects: EngineEffect[] = [trafficAt(state, 100), { type: 'activate', version: state.to }];
      if (hasPrevious(state)) effects.push({ type: 'stop-instances', version: state.from! });
      const verdict: EngineEffect[] =
        state.phase === 'retiring'
          ? [
              {
                type: 'mark-release',
                version: state.to,
                verdict: 'good',
                reason: `deployment ${state.id} succeeded (${by} while ${state.from ?? 'nothing'} retired)`,
              },
            ]
          : [record(`${state.to} is not marked good: its after_switch hook did not finish`)];
      const old = hasPrevious(state) ? `; ${state.from} stopped without waiting for its requests` : '';
      return result(
        end('succeeded', 100),
        record(`${by}: all traffic stays on ${state.to}${old}`),
        ...effects,
        ...verdict,
        ...markLeftBehind(state),
        record(`deployment succeeded: ${state.to} serves ${state.app} in ${state.env}`),
      );
    }
    case 'reverting': {
      const status = revertStatus(state);
      return result(
        end(status, 0),
        record(`${by}: the revert finished at once: ${backTo(state)}; ${state.to} stopped`),
        ...backNow(state),
        record(`deployment ${status}`),
      );
    }
    case 'replacing':
    case 'done':
      return result(state);
  }
}

function backTo(state: DeploymentState): string {
  return hasPrevious(state) ? `traffic back on ${state.from}` : 'nothing served before it';
}

/** The previous release runs and takes all traffic; the new one stops without draining. */
function backNow(state: DeploymentState): EngineEffect[] {
  const effects: EngineEffect[] = [];
  if (hasPrevious(state))
    effects.push(
      { type: 'ensure-instances', version: state.from!, count: state.instances },
      ...trafficBack(state),
    );
  effects.push({ type: 'stop-instances', version: state.to });
  return effects;
}
