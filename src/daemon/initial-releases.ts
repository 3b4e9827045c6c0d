import type { FerryConfig } from '../config/types.js';
import type { Deployer } from '../runtime/deployer.js';
import type { Fleet } from '../server/fleet/fleet.js';
import type { LedgerView } from './run-config-restart.js';

/**
 * Each app's `initial_release`, in every environment where it has none yet: on this host a
 * deployment (queued behind a lock that holds the app), on enrolled hosts the first rollout.
 */
export async function deployInitialReleases(deps: {
  readonly config: FerryConfig;
  readonly fleet: Pick<Fleet, 'has' | 'rollout' | 'deploy'>;
  readonly ledger: LedgerView;
  readonly deployer: Pick<Deployer, 'deployOrQueue'>;
}): Promise<void> {
  const { fleet, ledger } = deps;
  for (const [appName, app] of Object.entries(deps.config.apps)) {
    if (!app.initialRelease) continue;
    for (const env of Object.keys(app.environments)) {
      if (fleet.has(env)) {
        // On enrolled hosts: the first rollout there makes it the release hosts join with.
        if ((await fleet.rollout(appName, env)) === null)
          await fleet.deploy({ app: appName, env, version: app.initialRelease, actor: 'ferry up' });
        continue;
      }
      if ((await ledger.getCurrent(appName, env)) || (await ledger.activeDeployment(appName, env))) continue;
      // Queued behind a lock that holds the app: it starts once the lock goes.
      await deps.deployer.deployOrQueue({
        app: appName,
        env,
        version: app.initialRelease,
        actor: 'ferry up',
      });
    }
  }
}
