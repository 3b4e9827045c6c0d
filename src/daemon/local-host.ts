import { currentRelease } from '../artifacts/releases.js';
import { HostAgent } from '../agent/host-agent.js';
import { InProcessAgentTransport } from '../agent/link/in-process-transport.js';
import { AgentApps } from '../agent/process/agent-apps.js';
import { AppsReporting } from '../agent/process/apps-reporting.js';
import type { ConfigSource } from '../config/types.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { RouterClient } from '../router/client.js';
import type { HostExchange } from '../server/agent-api/host-exchange.js';
import type { InstanceRecord, InstanceStore } from '../store/store.js';
import { LogRotator, resolveRunAccount, Supervisor, type RunAccount } from '../supervisor/index.js';
import { LocalSpecs } from './local-specs.js';
import { reapOrphans } from './orphans.js';
import type { DaemonPaths } from './paths.js';
import type { RouterWatch } from './router-watch.js';
import { unconfiguredApp } from './unconfigured-app.js';

/** The one host of `ferry up`: its agent runs in the daemon's process. */
export const LOCAL_HOST = 'local';

/** How often the embedded agent reports: the engine observes health and traffic from its reports. */
const LOCAL_REPORT_MS = 100;

/** How often the supervisor samples each instance's CPU time and memory from /proc. */
const USAGE_SAMPLE_MS = 2_000;

export interface LocalHostOptions {
  /** The configuration in effect (`ferry apply` replaces it). */
  readonly config: ConfigSource;
  readonly paths: DaemonPaths;
  /** This host's instance records (its `ferry.db`). */
  readonly records: InstanceStore;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Per app, the account its processes run as (run.user); apps hosted again from their processes add theirs. */
  readonly accounts: Map<string, RunAccount>;
  /** The daemon's own secrets (the API token): never quoted in an app's evidence. */
  readonly knownSecrets: readonly string[];
  /** The server's side of the link: the embedded agent's in-process transport reaches it. */
  readonly exchange: HostExchange;
}

/**
 * The server's own host (`ferry up`, and `ferry server` for environments without `hosts:`): the
 * router, the supervisor, and the embedded agent on the in-process transport, whose app hosts are
 * made from this host's desired state as a `ferry agent`'s are (AgentApps), reading each app's
 * configuration from `specs`. Built acting on nothing; the daemon starts it step by step. The
 * router and the instances outlive it.
 */
export class LocalHost {
  readonly router: RouterClient;
  readonly supervisor: Supervisor;
  /** How each app runs here, by "app.env": `ferry apply` sets it, the agent reads it. */
  readonly specs: LocalSpecs;
  /** The app hosts, made from the desired state (and at start, from the instances that outlived the daemon). */
  readonly apps: AgentApps;
  readonly agent: HostAgent;
  /** This start spawned the router (it was not running): a failed start stops it again. */
  private spawnedRouter = false;
  private watch: RouterWatch | null = null;
  /** The host's journal and router totals, in its agent's reports. */
  private readonly reporting: AppsReporting;
  private rotator: LogRotator | null = null;

  constructor(private readonly opts: LocalHostOptions) {
    const { config, paths, logger, clock } = opts;
    this.specs = LocalSpecs.of(config.current);
    this.router = new RouterClient({ stateDir: paths.routerDir, logger });
    let agent: HostAgent | null = null;
    const reporting = (this.reporting = new AppsReporting(
      this.router,
      () => clock.now(),
      () => agent?.changed(),
    ));
    this.supervisor = new Supervisor({
      ferryHome: paths.home,
      clock,
      onEvent: (event) => {
        reporting.onSupervisorEvent(this.apps.all(), event);
        // An instance's change (healthy, crashed) may let the host's plan move on now.
        agent?.reconciler.poke();
      },
    });
    const apps = (this.apps = new AgentApps({
      appDir: paths.appDir,
      ferryHome: paths.home,
      records: opts.records,
      supervisor: this.supervisor,
      router: this.router,
      holdTimeoutMs: () => config.current.router.holdTimeoutMs,
      knownSecrets: opts.knownSecrets,
      logger,
      now: () => clock.now(),
      events: reporting.journal,
      configOf: this.specs.configOf,
    }));
    agent = this.agent = new HostAgent({
      hostId: LOCAL_HOST,
      labels: {},
      dataDir: paths.agentDir,
      transport: new InProcessAgentTransport(opts.exchange, LOCAL_HOST),
      ...reporting.agentOptions(apps),
      artifactCache: () => config.current.artifacts,
      clock,
      logger: logger.child({ agent: LOCAL_HOST }),
      reportEveryMs: LOCAL_REPORT_MS,
      router: () => this.watch?.report() ?? null,
    });
  }

  /** Reuses the router that outlived the last daemon, or starts one. */
  async startRouter(): Promise<void> {
    const { pid, started, upgradedFrom } = await this.router.ensureRunning();
    this.spawnedRouter = started;
    if (upgradedFrom !== undefined)
      this.opts.logger.info({ from: upgradedFrom, pid }, 'the router was handed over to this version');
  }

  /** Whether this start spawned the router (it was not running). */
  get routerSpawned(): boolean {
    return this.spawnedRouter;
  }

  /**
   * Reconciles the processes carrying this data directory's marker with the instance records: known
   * ones are adopted by their app host, orphans are stopped unless `stopOrphans` is false (--adopt
   * kills nothing). The release each app serves is the host's own `current` symlink, as a `ferry
   * agent` reads it: the host needs nothing of the server to take its instances back.
   */
  async adoptInstances(stopOrphans: boolean): Promise<void> {
    const records = await this.opts.records.listInstances();
    const adopted = await reapOrphans(this.supervisor, records, this.opts.logger, { stopOrphans });
    await this.specUnconfigured(adopted);
    for (const { app, env } of this.specs.all()) {
      const entry = { app: app.name, env, spec: this.specs.specOf(app.name, env) };
      await this.apps.adopt(
        entry,
        adopted.filter((r) => r.app === app.name && r.env === env),
        (host) => currentRelease(host.releasesDir).catch(() => null),
      );
    }
    // The process view of `ferry status` (CPU over the last interval, memory), as pm2 ls shows it.
    this.supervisor.startSampling(USAGE_SAMPLE_MS);
  }

  /**
   * Apps that left ferry.yaml (`ferry apply` without --prune) but whose instances still run get a
   * configuration again, read from their processes and their route: they stay served, supervised
   * and shown as "not in config" until `ferry apply --prune` stops them.
   */
  private async specUnconfigured(records: readonly InstanceRecord[]): Promise<void> {
    const routes = await this.router.routes().catch(() => []);
    const byKey = new Map<string, InstanceRecord[]>();
    for (const record of records) {
      if (this.specs.has(record.app, record.env)) continue;
      const key = `${record.app}.${record.env}`;
      byKey.set(key, [...(byKey.get(key) ?? []), record]);
    }
    for (const [key, mine] of byKey) {
      const { app: name, env } = mine[0]!;
      const found = unconfiguredApp(
        name,
        env,
        mine,
        routes.find((r) => r.name === key),
        process.getuid?.() ?? 0,
      );
      if (!found) continue;
      const account = resolveRunAccount(found.app.run, `apps.${name}.run`);
      if (account) this.opts.accounts.set(name, account);
      this.specs.set(found.app, env);
      this.opts.logger.warn(
        { app: name, env },
        'not in the configuration but still running; ferry apply --prune stops it',
      );
    }
  }

  /**
   * From here on the router is watched: a keeper that dies is brought back (or replaced by its
   * workers' successor) and gets every route again, which is why the hosts must know their
   * instances first. Its changes go in the host's reports, as any host's.
   */
  async watchRouter(): Promise<void> {
    const { logger, clock } = this.opts;
    const watch = (this.watch = this.reporting.watchRouter({
      router: this.router,
      apps: this.apps,
      clock,
      logger,
    }));
    watch.start(await this.router.health());
  }

  /** Instances write straight to their files; rotation is copy-truncate (10 MiB, 3 kept). */
  startLogRotation(): void {
    const { logger } = this.opts;
    this.rotator = new LogRotator(() => this.apps.all().flatMap((h) => h.logFiles()), {
      maxBytes: 10 * 1024 * 1024,
      keep: 3,
      intervalMs: 30_000,
      onError: (file, error) => logger.warn({ file, err: error }, 'log rotation failed'),
    });
    this.rotator.start();
  }

  stopWatchingRouter(): void {
    this.watch?.stop();
  }

  /** Stops the log rotation, the hosts' monitors and the supervisor's watching; never a process. */
  detach(): void {
    this.rotator?.stop();
    for (const host of this.apps.all()) host.close();
    this.supervisor.detach();
  }

  /** A failed start's router: stopped unless it serves instances by now. */
  async stopIdleRouter(): Promise<void> {
    const router = this.router;
    const routes = await router.routes().catch(() => []);
    if (routes.some((route) => route.backends.length > 0)) return;
    await router.stop();
  }
}
