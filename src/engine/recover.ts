import { replacingEffects } from './restart.js';
import { afterSwitchEffects, hasPrevious, revertEffects, trafficAt } from './transitions.js';
import type { DeploymentState, EngineEffect } from './types.js';

/**
 * The effects a phase needs, issued again after a daemon restart or after one of them failed. Every
 * effect is idempotent (ensure-instances adopts what runs; install reuses a verified release; retire
 * of a stopped release is immediate), so replaying them converges to the same place whatever moment
 * the crash or the failure hit. The after_switch hook runs again too: hooks must be idempotent.
 */
export function recoverEffects(state: DeploymentState): EngineEffect[] {
  if (state.replace !== null && (state.phase === 'replacing' || state.phase === 'reverting'))
    return replacingEffects(state);
  switch (state.phase) {
    case 'installing':
      return [{ type: 'install', version: state.to }];
    case 'stopping-old':
      return state.from ? [{ type: 'retire', version: state.from }] : [];
    case 'starting':
      return [
        ...keepPrevious(state),
        { type: 'ensure-instances', version: state.to, count: state.instances },
        trafficAt(state, 0),
      ];
    case 'shifting':
      return [
        ...keepPrevious(state),
        { type: 'ensure-instances', version: state.to, count: state.instances },
        trafficAt(state, state.weight),
        { type: 'open-window' },
      ];
    case 'after-switch':
      return [trafficAt(state, 100), ...afterSwitchEffects(state)];
    case 'retiring':
      return state.from
        ? [trafficAt(state, 100), { type: 'retire', version: state.from }]
        : [trafficAt(state, 100)];
    case 'reverting':
      return revertEffects(state);
    case 'replacing':
    case 'done':
      return [];
  }
}

/** The previous release keeps serving while the new one starts or takes a share: make sure it runs. */
function keepPrevious(state: DeploymentState): EngineEffect[] {
  if (!hasPrevious(state) || state.strategy.kind === 'all-at-once') return [];
  return [{ type: 'ensure-instances', version: state.from!, count: state.instances }];
}
