import type { AppConfig, AppEnvironmentConfig } from '../../config/types.js';
import type { EventSink } from '../../events/publisher.js';
import type { Logger } from '../../lib/logger.js';
import { appOfSpec } from '../../protocol/app-spec.js';
import type { AppOnHost } from '../../protocol/desired-state.js';
import type { RouterClient } from '../../router/client.js';
import type { InstanceRecord, InstanceStore } from '../../store/store.js';
import { resolveRunAccount, type Supervisor } from '../../supervisor/index.js';
import { AppHost } from '../app-host.js';

/** A desired entry as far as the app's host is made from it: which app, and how it runs. */
export type AppEntry = Pick<AppOnHost, 'app' | 'env' | 'spec'>;

/** How an app runs, read from its desired entry; undefined: this host has no configuration for it. */
export type ConfigOf = (
  desired: AppEntry,
) => { readonly app: AppConfig; readonly settings: AppEnvironmentConfig } | undefined;

export interface AgentAppsDeps {
  readonly appDir: (app: string, env: string) => string;
  readonly ferryHome: string;
  readonly records: InstanceStore;
  readonly supervisor: Supervisor;
  readonly router: RouterClient;
  /** How long the router holds a request while no instance is ready (the configuration in effect). */
  readonly holdTimeoutMs: () => number;
  /** The agent's own secrets (its credential, the API token): never quoted in an app's evidence. */
  readonly knownSecrets: readonly string[];
  readonly logger: Logger;
  readonly now: () => number;
  readonly events: EventSink;
  /**
   * How an app runs: a `ferry agent` reads the spec its desired entry carries (the default); the
   * embedded agent of `ferry up` reads the daemon's configuration, which the entry names by digest.
   */
  readonly configOf?: ConfigOf;
}

/**
 * The app hosts of an agent, made from the desired state: an app's host is created from its
 * desired entry the first time it is seen (its route published at once: its listen address serves
 * from then on), and reconfigured when the entry's spec digest changes (`ferry apply` on the
 * server). The same for `ferry agent` and for the server's own host. Keyed by a Map: app and
 * environment names come from the server.
 */
export class AgentApps {
  private readonly byKey = new Map<string, AppHost>();
  /** The spec digest each host runs with, by "app.env". */
  private readonly digests = new Map<string, string>();
  private readonly configOf: ConfigOf;

  constructor(private readonly deps: AgentAppsDeps) {
    this.configOf = deps.configOf ?? ((desired) => appOfSpec(desired.spec, desired.app, desired.env));
  }

  /** The host of `desired`'s app, made or reconfigured from its entry; undefined without a configuration. */
  async hostFor(desired: AppEntry): Promise<AppHost | undefined> {
    const key = `${desired.app}.${desired.env}`;
    const known = this.byKey.get(key);
    if (known !== undefined && this.digests.get(key) === desired.spec.digest) return known;
    const config = this.configOf(desired);
    if (config === undefined) return undefined;
    if (known !== undefined) {
      const { app, settings } = config;
      const account = resolveRunAccount(app.run, `apps.${app.name}.run`);
      await known.reconfigure({ app, settings, holdTimeoutMs: this.deps.holdTimeoutMs(), account });
      this.digests.set(key, desired.spec.digest);
      return known;
    }
    const host = this.make(desired, config);
    await host.republishRoute();
    this.byKey.set(key, host);
    this.digests.set(key, desired.spec.digest);
    return host;
  }

  /**
   * At the agent's start, before it follows any desired state: the app's host takes back its
   * instances that outlived the last agent (their route pushed with them, never an empty one in
   * between). False without a configuration for the app.
   */
  async adopt(
    desired: AppEntry,
    records: readonly InstanceRecord[],
    current: (host: AppHost) => Promise<string | null>,
  ): Promise<boolean> {
    const config = this.configOf(desired);
    if (config === undefined) return false;
    const host = this.make(desired, config);
    const key = `${desired.app}.${desired.env}`;
    this.byKey.set(key, host);
    this.digests.set(key, desired.spec.digest);
    await host.adopt(records, await current(host));
    return true;
  }

  private make(desired: AppEntry, config: NonNullable<ReturnType<ConfigOf>>): AppHost {
    const { app, settings } = config;
    return new AppHost({
      app,
      env: desired.env,
      settings,
      dir: this.deps.appDir(app.name, desired.env),
      ferryHome: this.deps.ferryHome,
      account: resolveRunAccount(app.run, `apps.${app.name}.run`),
      knownSecrets: this.deps.knownSecrets,
      records: this.deps.records,
      supervisor: this.deps.supervisor,
      router: this.deps.router,
      holdTimeoutMs: this.deps.holdTimeoutMs(),
      logger: this.deps.logger.child({ app: app.name, env: desired.env }),
      now: this.deps.now,
      events: this.deps.events,
    });
  }

  /**
   * The app left this host's desired state: its instances are drained and stopped, its route
   * removed, and its host forgotten (its release directories stay, as any retired release's).
   */
  async leave(app: string, env: string): Promise<void> {
    const key = `${app}.${env}`;
    const known = this.byKey.get(key);
    if (known === undefined) return;
    await known.retireAll();
    await this.deps.router.deleteRoute(key);
    known.close();
    // Reported as retiring until here, then no more.
    if (this.byKey.get(key) === known) {
      this.byKey.delete(key);
      this.digests.delete(key);
    }
  }

  /** The host made for an app, if any (the reconciler asks synchronously). */
  known(app: string, env: string): AppHost | undefined {
    return this.byKey.get(`${app}.${env}`);
  }

  /** The spec digest the app's host runs with now (what its report says it applied). */
  digestOf(host: AppHost): string | undefined {
    return this.digests.get(host.key);
  }

  all(): AppHost[] {
    return [...this.byKey.values()];
  }
}
