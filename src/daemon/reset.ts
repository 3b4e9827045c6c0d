import { rmSync } from 'node:fs';
import type { Logger } from '../lib/logger.js';
import { routeTablePath } from '../router/route-table-file.js';
import type { Store } from '../store/store.js';
import type { DaemonPaths } from './paths.js';
import { stopInstancesAndRouter } from './stop-all.js';

/**
 * `ferry up --reset` after a lost store: stops the data directory's instances and its router and
 * clears the routing table, so the start that follows is a fresh install. Release directories stay
 * (a later deploy of one of them is an install from disk).
 */
export async function resetDataDir(deps: {
  readonly paths: DaemonPaths;
  readonly store: Store;
  readonly now: number;
  readonly logger: Logger;
}): Promise<void> {
  const { paths, logger } = deps;
  const stopped = await stopInstancesAndRouter(paths, logger);
  rmSync(routeTablePath(paths.routerDir), { force: true });
  logger.warn(stopped, 'reset: stopped the instances and the router of the lost store, cleared the routes');
  // The store is no longer new: the next start resumes from it rather than asking again.
  await deps.store.audit({
    at: deps.now,
    actor: 'ferry up',
    action: 'reset',
    target: 'data directory',
    detail: { ...stopped },
  });
}
