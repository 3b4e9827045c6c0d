import { hookVariables } from '../agent/hooks.js';
import type { DeploymentState } from '../engine/types.js';

/**
 * The environment of a hook run for a deployment (after_switch, success, failure): the release's
 * FERRY_APP, FERRY_ENV, FERRY_VERSION, FERRY_RELEASE_DIR plus the deployment's id, kind, status and
 * versions.
 */
export function deploymentHookVariables(
  state: DeploymentState,
  version: string,
  releaseDir: string,
): Record<string, string> {
  return {
    ...hookVariables({ app: state.app, env: state.env, version, releaseDir }),
    ...deploymentVariables(state),
  };
}

/**
 * The deployment's own variables of a hook run (the host adds the release's: FERRY_APP,
 * FERRY_VERSION, FERRY_RELEASE_DIR...).
 */
export function deploymentVariables(state: DeploymentState): Record<string, string> {
  return {
    FERRY_DEPLOYMENT_ID: state.id,
    FERRY_KIND: state.kind,
    FERRY_STATUS: state.status,
    FERRY_FROM_VERSION: state.from ?? '',
    FERRY_TO_VERSION: state.to,
  };
}
