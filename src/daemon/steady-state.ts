import type { AppHost } from '../agent/app-host.js';
import type { Logger } from '../lib/logger.js';
import type { HostDesiredState } from '../protocol/desired-state.js';
import { steadyApp } from '../runtime/desired/edits.js';
import type { ExchangeHostLink } from '../runtime/desired/exchange-link.js';
import type { AdoptedApp } from './adopt-running.js';
import { adoptedWeights } from './adopted-weights.js';
import { LOCAL_HOST } from './local-host.js';
import type { LedgerView } from './run-config-restart.js';

/**
 * Apps with no running deployment and no desired state yet on this host (a store from before
 * desired states, or --adopt): their current release with its configured instances becomes it.
 * An app with one is left as it is: the agent brings the host to it.
 */
export async function restoreSteadyStates(deps: {
  /** The server's own host's app hosts: their apps and configured instance counts. */
  readonly hosts: Iterable<AppHost>;
  /** The host's desired state as the server has it (null: none yet). */
  readonly desired: HostDesiredState | null;
  readonly link: ExchangeHostLink;
  readonly ledger: LedgerView;
  /** What --adopt found running (empty otherwise). */
  readonly adopted: readonly AdoptedApp[];
  readonly logger: Logger;
}): Promise<void> {
  const { desired, link, ledger, logger } = deps;
  for (const host of deps.hosts) {
    const { name: app } = host.app;
    const { env } = host;
    if (desired?.apps.some((a) => a.app === app && a.env === env)) continue;
    const current = await ledger.getCurrent(app, env);
    if (!current || (await ledger.activeDeployment(app, env))) continue;
    const adopted = deps.adopted.find((a) => a.app === app && a.env === env);
    await link
      .edit(LOCAL_HOST, app, env, (doc) => {
        const steady = steadyApp(doc, current, host.settings.instances);
        // --adopt: the route's weights as the router's table had them (a canary's included).
        return adopted && adopted.weights.size > 0 ? adoptedWeights(steady, adopted.weights, host) : steady;
      })
      .catch((error: unknown) =>
        logger.error({ err: error, app, env }, 'could not restart the current release'),
      );
  }
}
