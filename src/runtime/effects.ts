import type { OutcomeReading } from '../engine/served-report.js';
import type { DeploymentHook, DeploymentState, EngineEvent, ReleaseVerdict } from '../engine/types.js';

/**
 * What the deployment run needs from the outside world; each call is idempotent. Implemented by
 * DesiredEffects (src/runtime/desired/): the host's desired state edited, its reports read.
 */
export interface EffectPort {
  install(state: DeploymentState, version: string): Promise<void>;
  /** `exclude`: instances that do not count (a restart's old ones). */
  ensureInstances(
    state: DeploymentState,
    version: string,
    count: number,
    exclude?: readonly string[],
  ): Promise<void>;
  /** Drains and stops these instances of the release (a restart's old ones). */
  retireInstances(state: DeploymentState, version: string, ids: readonly string[]): Promise<void>;
  /** Keeps at most `count` instances of the release not named in `exclude`; the others drain and stop. */
  trimInstances(
    state: DeploymentState,
    version: string,
    exclude: readonly string[],
    count: number,
  ): Promise<void>;
  /** The ids of the release's serving instances now (what a restart replaces). */
  instanceIds(app: string, env: string, version: string): string[];
  setTraffic(state: DeploymentState, weights: Readonly<Record<string, number>>): Promise<void>;
  retire(state: DeploymentState, version: string): Promise<void>;
  /** Out of the router and stopped without waiting for the drain (a forced end). */
  stopInstances(state: DeploymentState, version: string): Promise<void>;
  /** Points the app's `current` symlink at the release. */
  activate(state: DeploymentState, version: string): Promise<void>;
  /** Runs a deployment hook of the release with its timeout; rejects with FERRY_E_HOOK_FAILED. */
  runHook(state: DeploymentState, hook: DeploymentHook, version: string): Promise<void>;
  openWindow(state: DeploymentState): Promise<void>;
  markRelease(
    state: DeploymentState,
    version: string,
    verdict: ReleaseVerdict,
    reason: string,
  ): Promise<void>;
  observe(state: DeploymentState): Promise<Extract<EngineEvent, { type: 'observed' }>>;
  /** The router's cumulative request outcomes of the app's route (for the served-request report). */
  readOutcomes(state: DeploymentState): Promise<OutcomeReading>;
}
