import type { EventSink } from '../../events/publisher.js';
import type { Logger } from '../../lib/logger.js';
import { appOfSpec } from '../../protocol/app-spec.js';
import type { AppOnHost } from '../../protocol/desired-state.js';
import type { RouterClient } from '../../router/client.js';
import type { InstanceStore } from '../../store/store.js';
import { resolveRunAccount, type Supervisor } from '../../supervisor/index.js';
import { AppHost } from '../app-host.js';

export interface AgentAppsDeps {
  readonly appDir: (app: string, env: string) => string;
  readonly ferryHome: string;
  readonly records: InstanceStore;
  readonly supervisor: Supervisor;
  readonly router: RouterClient;
  readonly holdTimeoutMs: number;
  /** The agent's own secrets (its credential): never quoted in an app's evidence. */
  readonly knownSecrets: readonly string[];
  readonly logger: Logger;
  readonly now: () => number;
  readonly events: EventSink;
}

/**
 * The app hosts of a `ferry agent`, made from the desired state: an app's host is created from the
 * spec its desired entry carries the first time it is seen, and reconfigured when the spec's
 * digest changes (`ferry apply` on the server). Keyed by a Map: app and environment names come
 * from the server.
 */
export class AgentApps {
  private readonly hosts = new Map<string, { host: AppHost; digest: string }>();

  constructor(private readonly deps: AgentAppsDeps) {}

  /** The host of `desired`'s app, made or reconfigured from its spec. */
  async hostFor(desired: AppOnHost): Promise<AppHost> {
    const key = `${desired.app}.${desired.env}`;
    const known = this.hosts.get(key);
    if (known !== undefined && known.digest === desired.spec.digest) return known.host;
    const { app, settings } = appOfSpec(desired.spec, desired.app, desired.env);
    const account = resolveRunAccount(app.run, `apps.${app.name}.run`);
    if (known !== undefined) {
      await known.host.reconfigure({ app, settings, holdTimeoutMs: this.deps.holdTimeoutMs, account });
      known.digest = desired.spec.digest;
      return known.host;
    }
    const host = new AppHost({
      app,
      env: desired.env,
      settings,
      dir: this.deps.appDir(app.name, desired.env),
      ferryHome: this.deps.ferryHome,
      account,
      knownSecrets: this.deps.knownSecrets,
      records: this.deps.records,
      supervisor: this.deps.supervisor,
      router: this.deps.router,
      holdTimeoutMs: this.deps.holdTimeoutMs,
      logger: this.deps.logger.child({ app: app.name, env: desired.env }),
      now: this.deps.now,
      events: this.deps.events,
    });
    this.hosts.set(key, { host, digest: desired.spec.digest });
    return host;
  }

  /**
   * The app left this host's desired state: its instances are drained and stopped, its route
   * removed, and its host forgotten (its release directories stay, as any retired release's).
   */
  async leave(app: string, env: string): Promise<void> {
    const key = `${app}.${env}`;
    const known = this.hosts.get(key);
    if (known === undefined) return;
    await known.host.retireAll();
    await this.deps.router.deleteRoute(key);
    known.host.close();
    // Reported as retiring until here, then no more.
    if (this.hosts.get(key) === known) this.hosts.delete(key);
  }

  /** The host made for an app, if any (the reconciler asks synchronously). */
  known(app: string, env: string): AppHost | undefined {
    return this.hosts.get(`${app}.${env}`)?.host;
  }

  all(): AppHost[] {
    return [...this.hosts.values()].map((entry) => entry.host);
  }
}
