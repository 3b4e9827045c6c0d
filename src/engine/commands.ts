import type { DeploymentCommand, DeploymentState } from './types.js';

/**
 * Why a user's command cannot apply to the deployment now, or null when it can. The runtime turns a
 * non-null answer into FERRY_E_ILLEGAL_STATE with the current state in the message.
 */
export function commandError(state: DeploymentState, cmd: DeploymentCommand): string | null {
  const where = `deployment ${state.id} is ${state.status} (phase ${state.phase})`;
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
      // Once all traffic is on the new release the deployment is as good as done: roll back instead.
      if (
        (state.status === 'running' || state.status === 'paused') &&
        ['installing', 'stopping-old', 'starting', 'shifting'].includes(state.phase)
      ) {
        return null;
      }
      return state.phase === 'retiring'
        ? `${where}: traffic is already on ${state.to}; use rollback instead`
        : `${where}: nothing to abort`;
  }
}
