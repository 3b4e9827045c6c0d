import type { Logger } from '../lib/logger.js';
import { RouterClient } from '../router/client.js';
import { findMarkedProcesses, killProcessTree } from '../supervisor/index.js';
import type { DaemonPaths } from './paths.js';

/** How long an instance gets between SIGTERM and SIGKILL when everything is stopped. */
export const STOP_ALL_GRACE_MS = 10_000;

/**
 * Stops every instance process of the data directory (found by its marker, whoever started it) and
 * its router: what `ferry down` and `ferry up --reset` do after the daemon.
 */
export async function stopInstancesAndRouter(
  paths: DaemonPaths,
  logger?: Logger,
): Promise<{ instances: number; router: boolean }> {
  const instances = findMarkedProcesses(paths.home);
  await Promise.all(instances.map((p) => killProcessTree(p.pid, p.pidStart, STOP_ALL_GRACE_MS)));
  const client = new RouterClient({ stateDir: paths.routerDir, ...(logger ? { logger } : {}) });
  const router = await client.stop().then(
    () => true,
    () => false,
  );
  return { instances: instances.length, router };
}
