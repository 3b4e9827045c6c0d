import type { Deployment, ServedReport } from '../api/types.js';
import { describeProgress } from '../engine/create.js';
import type { DeploymentState } from '../engine/types.js';

/**
 * A deployment as the API, the event streams and the UI show it: its state, a one-line summary
 * and, where it was read, its served-request report.
 */
export function toDeployment(state: DeploymentState, served?: ServedReport | null): Deployment {
  return { ...state, progress: describeProgress(state), ...(served !== undefined ? { served } : {}) };
}
