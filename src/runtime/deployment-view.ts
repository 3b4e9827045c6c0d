import type { Deployment } from '../api/types.js';
import { describeProgress } from '../engine/create.js';
import type { DeploymentState } from '../engine/types.js';

/** A deployment as the API, the event streams and the UI show it: its state and a one-line summary. */
export function toDeployment(state: DeploymentState): Deployment {
  return { ...state, progress: describeProgress(state) };
}
