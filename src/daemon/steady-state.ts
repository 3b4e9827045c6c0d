import type { FerryConfig } from '../config/types.js';
import type { Logger } from '../lib/logger.js';
import type { HostDesiredState } from '../protocol/desired-state.js';
import type { AppReport, HostReport } from '../protocol/report.js';
import { steadyApp } from '../runtime/desired/edits.js';
import type { ExchangeHostLink } from '../runtime/desired/exchange-link.js';
import type { AdoptedApp } from './adopt-running.js';
import { adoptedWeights } from './adopted-weights.js';
import { hostAppViews } from './host-app-views.js';
import { LOCAL_HOST } from './local-host.js';
import type { LedgerView } from './run-config-restart.js';

/**
 * Apps with no running deployment and no desired state yet on this host (a store from before
 * desired states, or --adopt): their current release with its configured instances becomes it.
 * An app with one is left as it is: the agent brings the host to it. The apps are the
 * configuration's and those the host's report names (one that left the configuration but still
 * runs), read from the report as for any host.
 */
export async function restoreSteadyStates(deps: {
  /** The host's last report (null: none yet, nothing to restore). */
  readonly report: HostReport | null;
  readonly config: FerryConfig;
  /** The host's desired state as the server has it (null: none yet). */
  readonly desired: HostDesiredState | null;
  readonly link: ExchangeHostLink;
  readonly ledger: LedgerView;
  /** What --adopt found running (empty otherwise). */
  readonly adopted: readonly AdoptedApp[];
  readonly logger: Logger;
}): Promise<void> {
  const { desired, link, ledger, logger } = deps;
  // The configuration's apps here, then those the report names that left it (as status lists them).
  for (const { app, env } of hostAppViews(deps.config, deps.report, 0)) {
    const reported = deps.report?.apps.find((a) => a.app === app && a.env === env);
    if (desired?.apps.some((a) => a.app === app && a.env === env)) continue;
    const current = await ledger.getCurrent(app, env);
    if (!current || (await ledger.activeDeployment(app, env))) continue;
    const adopted = deps.adopted.find((a) => a.app === app && a.env === env);
    const instances = configuredInstances(deps.config, { app, env }, reported, current);
    await link
      .edit(LOCAL_HOST, app, env, (doc) => {
        const steady = steadyApp(doc, current, instances);
        // --adopt: the route's weights as the router's table had them (a canary's included).
        return adopted && adopted.weights.size > 0 && reported
          ? adoptedWeights(steady, adopted.weights, reported)
          : steady;
      })
      .catch((error: unknown) =>
        logger.error({ err: error, app, env }, 'could not restart the current release'),
      );
  }
}

/** The app's configured instance count; for an app that left the configuration, as many as run. */
function configuredInstances(
  config: FerryConfig,
  { app, env }: { app: string; env: string },
  reported: AppReport | undefined,
  current: string,
): number {
  const environments = Object.hasOwn(config.apps, app) ? config.apps[app]!.environments : {};
  if (Object.hasOwn(environments, env)) return environments[env]!.instances;
  return (reported?.instances ?? []).filter((i) => i.version === current && i.state !== 'retiring').length;
}
