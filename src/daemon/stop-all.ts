import type { Logger } from '../lib/logger.js';
import { RouterClient } from '../router/client.js';
import { findMarkedProcesses, isProcessAlive, killProcessTree } from '../supervisor/index.js';
import type { DaemonPaths } from './paths.js';

/** How long an instance gets between SIGTERM and SIGKILL when everything is stopped. */
export const STOP_ALL_GRACE_MS = 10_000;

/** What was stopped: only processes that ran and were signalled are counted. */
export interface StoppedProcesses {
  /** Instance processes (their trees) that were running and were stopped. */
  readonly instances: number;
  /** The router keeper's pid; null when no router ran (or it could not be stopped). */
  readonly routerPid: number | null;
  /** Router processes without a keeper (the workers of a keeper that was killed) that were stopped. */
  readonly routerOthers: number;
}

/**
 * Stops every instance process of the data directory (found by its marker, whoever started it) and
 * its router: what `ferry down` and `ferry up --reset` do after the daemon.
 */
export async function stopInstancesAndRouter(paths: DaemonPaths, logger?: Logger): Promise<StoppedProcesses> {
  const stopped = await Promise.all(
    findMarkedProcesses(paths.home).map(async (p) => {
      // One that exited since it was found was not stopped by us.
      if (!isProcessAlive(p.pid, p.pidStart)) return false;
      await killProcessTree(p.pid, p.pidStart, STOP_ALL_GRACE_MS);
      return true;
    }),
  );
  const client = new RouterClient({ stateDir: paths.routerDir, ...(logger ? { logger } : {}) });
  const router = await client.stop().catch((error: unknown) => {
    logger?.warn({ err: error }, 'the router could not be stopped');
    return { keeperPid: null, others: 0 };
  });
  return {
    instances: stopped.filter(Boolean).length,
    routerPid: router.keeperPid,
    routerOthers: router.others,
  };
}
