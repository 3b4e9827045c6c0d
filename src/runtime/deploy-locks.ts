import type { QueuedDeploy, QueuedDeployRequest } from '../server/locks/deploy-queue.js';
import type { Lock } from '../server/locks/lock.js';

/**
 * What the Deployer asks of the locks (`ferry lock`). Every deploy and restart goes through the
 * Deployer, whoever asked (the CLI, the API, `ferry apply`, the daemon's start, a trigger), so this
 * is the one place a lock refuses them. Rollbacks and the commands that steer a running deployment
 * (abort included) are not refused: they are the way out of trouble.
 */
export interface DeployLocks {
  /** The lock that holds `app` in `env` now (the environment's before the app's), or null. */
  holding(app: string, env: string): Promise<Lock | null>;
  /** Keeps the deploy until no lock holds its app (replacing one queued before, returned). */
  enqueue(
    request: QueuedDeployRequest,
    heldBy: Lock,
  ): Promise<{ readonly queued: QueuedDeploy; readonly replaced: QueuedDeploy | null }>;
}
