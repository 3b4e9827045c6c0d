import type { QueuedDeploy, QueuedDeployRequest } from '../server/locks/deploy-queue.js';
import { lockedError } from '../server/locks/lock-errors.js';
import { unlockCommand, type Lock } from '../server/locks/lock.js';

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

/**
 * Refuses (FERRY_E_LOCKED, naming the lock and the ways on) a deploy of `version` of `app` in `env`
 * while a lock holds it: on this host's engine and across a fleet alike.
 */
export async function assertDeployUnlocked(
  locks: DeployLocks | undefined,
  app: string,
  env: string,
  version: string,
): Promise<void> {
  const lock = await locks?.holding(app, env);
  if (!lock) return;
  throw lockedError(
    lock,
    `cannot deploy ${version} of ${app} to ${env}`,
    `to deploy it once the lock goes (released or expired): ferry deploy ${app} ${version} --env ${env} --queue; or release it with: ${unlockCommand(lock)}`,
  );
}
