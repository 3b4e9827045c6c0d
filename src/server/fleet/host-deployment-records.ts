import { upgradeDeploymentState } from '../../engine/create.js';
import type { DeploymentState } from '../../engine/types.js';
import { FerryError } from '../../errors/ferry-error.js';
import type { DeploymentRecords } from '../../runtime/run.js';
import type { KvStore } from '../../store/kv/kv.js';
import type { DeploymentEvent, NewDeploymentEvent } from '../../store/store.js';

/** Where hosts' own deployments are kept: `/host-deployments/<app>/<env>/<host>`, one per host. */
const PREFIX = '/host-deployments/';

/** The store key of the app's own deployment on a host (segments percent-encoded). */
export function hostDeploymentKey(app: string, env: string, host: string): string {
  return PREFIX + [app, env, host].map(encodeURIComponent).join('/');
}

/** The host's own deployment of the app as last persisted; undefined when it never had one. */
export async function loadHostDeployment(kv: KvStore, key: string): Promise<DeploymentState | undefined> {
  const entry = await kv.get(key);
  if (entry === undefined) return undefined;
  try {
    return upgradeDeploymentState(JSON.parse(entry.value) as DeploymentState);
  } catch (error) {
    throw new FerryError(
      'FERRY_E_STORE',
      `the host deployment at ${key} is not readable JSON`,
      { where: key },
      { cause: error },
    );
  }
}

/**
 * A host's own deployment (the app's canary on one host of a fleet rollout) persisted beside the
 * rollout, in the control plane's key-value store: its state before each effect, as any deployment.
 * It is not a deployment of the environment: the environment's current release and the ledger's
 * verdicts are the rollout's to set, so those writes go nowhere, and its events go to the server's
 * log only (`ferry status` shows the host's progress as its target's message).
 */
export function hostDeploymentRecords(kv: KvStore, key: string): DeploymentRecords {
  let seq = 0;
  return {
    async saveDeployment(state) {
      await kv.put(key, JSON.stringify(state));
    },
    // The run logs each event itself; numbered here so the run's contract holds.
    appendEvent(event: NewDeploymentEvent): Promise<DeploymentEvent> {
      return Promise.resolve({ ...event, seq: ++seq });
    },
    setCurrent: () => Promise.resolve(),
    getServedReport: () => Promise.resolve(undefined),
    saveServedReport: () => Promise.resolve(),
  };
}
