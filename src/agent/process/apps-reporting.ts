import { RouterWatch } from '../../daemon/router-watch.js';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import { RouterTotals } from '../../metrics/router-totals.js';
import type { RouterClient } from '../../router/client.js';
import type { SupervisorEvent } from '../../supervisor/index.js';
import type { AppHost } from '../app-host.js';
import { HostEventJournal } from '../host-events.js';
import type { HostAgentOptions } from '../host-agent.js';
import type { AgentApps } from './agent-apps.js';

/**
 * What an agent adds to its app hosts to report on them, the same for `ferry agent` and for the
 * server's own host: the journal of what happens between reports (instance and health changes,
 * crashes), the router's totals per route (kept from every reading of the router, so they never go
 * backwards), and the HostAgent's view of the apps.
 */
export class AppsReporting {
  readonly journal: HostEventJournal;
  private readonly totals = new RouterTotals();

  constructor(
    router: Pick<RouterClient, 'onStats'>,
    now: () => number,
    /** Something to report happened (the agent's `changed`, once it exists). */
    changed: () => void,
  ) {
    this.journal = new HostEventJournal(now, changed);
    router.onStats((stats) => this.totals.observe(stats, now()));
  }

  /** A supervisor event: the instance's host updates it, and a crash or restart is journaled. */
  onSupervisorEvent(hosts: Iterable<AppHost>, event: SupervisorEvent): void {
    for (const host of hosts) {
      if (!host.owns(event.id)) continue;
      host.onSupervisorEvent(event);
      this.journal.note(host, event);
    }
  }

  /**
   * Watches the host's router: a keeper that dies is brought back (or replaced by its workers'
   * successor) and gets every app's route again; its changes are journaled (the server's event
   * stream has them, and `ferry up` prints the server's own), its problems logged.
   */
  watchRouter(opts: {
    readonly router: RouterClient;
    readonly apps: AgentApps;
    readonly clock: Clock;
    readonly logger: Logger;
  }): RouterWatch {
    const { apps, logger } = opts;
    const watch = new RouterWatch({
      router: opts.router,
      clock: opts.clock,
      onReplaced: async (pid) => {
        logger.warn({ pid }, 'the router keeper was replaced; pushing every route again');
        await Promise.all(apps.all().map((host) => host.republishRoute()));
      },
      onProblem: (message) => logger.error({ router: watch.report().pid }, message),
      onRecovered: (message) => logger.info({ router: watch.report().pid }, message),
      onChange: (change) => this.journal.router(change),
    });
    return watch;
  }

  /** The HostAgent's options about the apps: made from the desired state, reported with all this. */
  agentOptions(
    apps: AgentApps,
  ): Pick<
    HostAgentOptions,
    'hostFor' | 'hosts' | 'specDigest' | 'onAppLeft' | 'routeTotals' | 'journal' | 'onInstalled'
  > {
    return {
      onInstalled: (host, installed, cacheAsked) => this.journal.installed(host, installed, cacheAsked),
      hostFor: (desired) => apps.hostFor(desired),
      hosts: () => apps.all(),
      specDigest: (host) => apps.digestOf(host),
      onAppLeft: (app, env) => apps.leave(app, env),
      routeTotals: (host) => this.totals.routeTotals(host.appName, host.envName),
      journal: this.journal,
    };
  }
}
