import { EventEmitter } from 'node:events';
import { existsSync, rmSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { AppHost } from '../agent/app-host.js';
import { createToken, readTokenFile, writeDaemonInfo } from '../api/discovery.js';
import { listenMetrics, type MetricsServer } from '../api/metrics-server.js';
import { createApiServer } from '../api/server.js';
import { loadApiTls, type ApiTls } from '../api/tls.js';
import { apiUrlOf } from '../config/listen-address.js';
import { loadConfig, parseConfig } from '../config/load.js';
import type { AppConfig, AppEnvironmentConfig, FerryConfig } from '../config/types.js';
import { FerryError, messageOf } from '../errors/ferry-error.js';
import type { Logger } from '../lib/logger.js';
import { systemClock } from '../lib/clock.js';
import { resolveRealPath } from '../lib/real-path.js';
import { FERRY_VERSION } from '../lib/version.js';
import { publishConfigApplied } from '../events/config-applied.js';
import type { EventPublisher } from '../events/publisher.js';
import type { DaemonMetrics } from '../metrics/daemon-metrics.js';
import type { RouterClient } from '../router/client.js';
import type { Deployer } from '../runtime/deployer.js';
import { steadyApp } from '../runtime/desired/edits.js';
import { liveCounters } from '../runtime/desired/live-counters.js';
import type { KvStore } from '../store/kv/kv.js';
import { controlRecordsOn } from '../store/kv-records/with-instances.js';
import { parseStoreUrl } from '../store/kv/store-url.js';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';
import type { InstanceRecord, InstanceStore, Store } from '../store/store.js';
import {
  LogRotator,
  resolveAppAccounts,
  resolveRunAccount,
  type RunAccount,
  type Supervisor,
} from '../supervisor/index.js';
import { listenForAgents, type AgentsListener } from '../server/agents-listener.js';
import { listenForTriggers, type TriggersListener } from '../triggers/listener.js';
import { catalogArtifacts } from '../releases/artifact-of.js';
import { KvReleaseCatalog } from '../releases/kv-catalog.js';
import { createReleasePart, type ReleasePart } from './release-part.js';
import { ConfigApplier, type ConfigApplied } from './config-apply.js';
import { unconfiguredApp } from './unconfigured-app.js';
import { adoptRunning, type AdoptedApp } from './adopt-running.js';
import { DaemonControl } from './control.js';
import { protectDataDir } from './data-dir-access.js';
import { inspectDataDir, prepareDataDir, withDataDirWrites } from './data-dir.js';
import {
  chooseStartMode,
  findEarlierState,
  isStoreNew,
  type EarlierState,
  type Recovery,
  type StartMode,
} from './earlier-state.js';
import { DaemonLock } from './lock.js';
import { reapOrphans } from './orphans.js';
import { adoptedWeights } from './adopted-weights.js';
import { hostsView } from './hosts-view.js';
import { openControlKv, resetControlKv } from './control-kv.js';
import { startExternalTargets, type ExternalTargets } from '../server/targets/external-targets.js';
import { Fleet } from '../server/fleet/fleet.js';
import { RecentDecisions } from '../server/rollouts/recent-decisions.js';
import { assembleParts, LOCAL_HOST, type DaemonParts } from './parts.js';
import { daemonPaths } from './paths.js';
import { resetDataDir } from './reset.js';
import { RouterWatch, type RouterStatus } from './router-watch.js';
import { createTrustPart, type TrustPart } from './trust-part.js';

/** How long the start waits for the embedded agent's first report. */
const FIRST_REPORT_MS = 10_000;

/** How often the supervisor samples each instance's CPU time and memory from /proc. */
const USAGE_SAMPLE_MS = 2_000;

export type DaemonState = 'starting' | 'running' | 'stopping' | 'stopped';

/** What status says of the router before the daemon watches it (while it starts). */
const STARTING_ROUTER: RouterStatus = {
  state: 'restarting',
  pid: null,
  version: null,
  uptimeMs: null,
  restarts: 0,
  workers: [],
  spare: null,
  error: null,
};

export interface DaemonOptions {
  readonly config: FerryConfig;
  /** Opens the daemon's log once the data directory passed its checks (nothing is written before). */
  readonly openLog: (file: string) => Logger;
  /** How a start on a lost store goes (`ferry up --adopt` / `--reset`); refused otherwise. */
  readonly recovery?: Recovery;
  /** How often a running deployment observes its release (ms). */
  readonly tickMs?: number;
}

/**
 * The all-in-one daemon (`ferry up`): control plane, embedded agent, router driver and API. Its
 * children (the router and the app instances) outlive it: stopping or killing the daemon drops no
 * request, and the next start re-adopts them and resumes interrupted deployments.
 */
export class Daemon {
  state: DaemonState = 'stopped';
  private lock: DaemonLock | null = null;
  private token = '';
  /** In `ferry up` one SQLite file holds the control plane's records and this host's instance records. */
  private store: (Store & InstanceStore) | null = null;
  private earlier: EarlierState | null = null;
  private logger: Logger | null = null;
  private router: RouterClient | null = null;
  /** This start spawned the router (it was not running): a failed start stops it again. */
  private routerStarted = false;
  private api: FastifyInstance | null = null;
  private deployer: Deployer | null = null;
  private publisher: EventPublisher | null = null;
  private metrics: DaemonMetrics | null = null;
  private metricsServer: MetricsServer | null = null;
  private supervisor: Supervisor | null = null;
  /** The control plane's key-value store (the hosts' desired states). */
  private kv: KvStore | null = null;
  /** Where agents of other hosts connect, when the configuration has `server`. */
  private agents: AgentsListener | null = null;
  /** Where webhooks deploy releases, when the configuration has triggers (docs/triggers.md). */
  private triggers: TriggersListener | null = null;
  /** Releases found by sources, webhooks and users, and the intake that deploys them (docs/triggers.md). */
  private catalog: KvReleaseCatalog | null = null;
  private releases: ReleasePart | null = null;
  /** Rollouts over targets outside Ferry (`/v1/targets`), on the key-value store. */
  private targets: ExternalTargets | null = null;
  /** The rollouts of environments on enrolled hosts. */
  private fleet: Fleet | null = null;
  private parts: DaemonParts | null = null;
  /** Enrollment: join tokens, hosts, agent credentials, over the key-value store. */
  private trust: TrustPart | null = null;
  private hosts = new Map<string, AppHost>();
  private createHost: ((app: AppConfig, env: string, settings: AppEnvironmentConfig) => AppHost) | null =
    null;
  private applier: ConfigApplier | null = null;
  /** The configuration in effect: the file `ferry up` read, until `ferry apply` (or SIGHUP) replaces it. */
  private readonly live: { current: FerryConfig };
  private routerPid: number | null = null;
  private routerWatch: RouterWatch | null = null;
  private rotator: LogRotator | null = null;
  private adopted: AdoptedApp[] = [];
  private accounts = new Map<string, RunAccount>();
  private tls: ApiTls | null = null;
  private daemonFileWritten = false;
  /** Operator notices (the router down, back): `ferry up` prints them; they are in the log too. */
  readonly notices = new EventEmitter();
  readonly paths;
  apiUrl = '';

  constructor(private readonly opts: DaemonOptions) {
    this.paths = daemonPaths(opts.config.dataDir);
    this.live = { current: opts.config };
  }

  /** The configuration in effect now. */
  get config(): FerryConfig {
    return this.live.current;
  }

  /** The daemon's events as they happen (deployments, instances, health, router, config). */
  get events(): EventPublisher {
    if (!this.publisher)
      throw new FerryError('FERRY_E_ILLEGAL_STATE', `daemon is ${this.state}; it has no events yet`);
    return this.publisher;
  }

  /**
   * Starts in named steps. Nothing is changed before the data directory is locked and checked and
   * the store is judged; nothing is resumed or adopted before the API listens. A step that fails
   * undoes what the steps before it did, so a failed start leaves nothing behind.
   */
  async start(): Promise<void> {
    if (this.state !== 'stopped')
      throw new FerryError('FERRY_E_ILLEGAL_STATE', `daemon is ${this.state}; cannot start`);
    this.state = 'starting';
    try {
      // Inputs that can be wrong are checked before anything changes: run.user accounts, TLS files.
      this.accounts = resolveAppAccounts(this.opts.config);
      this.tls = this.opts.config.api.tls ? loadApiTls(this.opts.config.api.tls) : null;
      await this.claimDataDir();
      const mode = await this.openStore();
      this.assemble();
      await this.listenApi();
      await this.listenForAgents();
      await this.applyStartMode(mode);
      await this.startRouter();
      await this.adoptInstances(mode);
      await this.watchRouter();
      await this.resumeDeployments();
      this.markReady();
      await this.parts!.locks.start();
      // Releases that were waiting (a window, a debounce) are taken up once deployments may start.
      await this.releases!.start();
      if (mode !== 'adopt') {
        await this.reconcileRunConfig();
        await this.deployInitialReleases();
      }
    } catch (error) {
      await this.undoStart(error);
      throw error;
    }
  }

  /**
   * Takes the data directory's lock (one daemon per directory), checks the directory without
   * changing anything (Ferry's, writable, room on disk, a usable token file), then makes it Ferry's.
   */
  private async claimDataDir(): Promise<void> {
    const { home, lockFile } = this.paths;
    const realHome = resolveRealPath(home);
    this.lock = await DaemonLock.acquire(home, lockFile);
    const existing = inspectDataDir(home);
    const token = existing === 'ferry' ? readTokenFile(home) : undefined;
    prepareDataDir(home, realHome);
    withDataDirWrites(home, () => {
      this.lock!.writeRecord();
      this.token = token ?? createToken(home);
    });
  }

  /**
   * Opens the store (its integrity is checked at open) and decides how to start. A new store on a
   * data directory that shows earlier state is refused before anything changes, unless the user
   * chose --adopt or --reset; a missing store file is not even created until then.
   */
  private async openStore(): Promise<StartMode> {
    const { db } = this.paths;
    const url = this.opts.config.server?.store ?? null;
    // etcd (server.store) keeps the control plane's records too; the file keeps host-local instances.
    const onEtcd = url !== null && parseStoreUrl(url, 'server.store').driver === 'etcd';
    if (onEtcd) this.kv = await openControlKv(this.paths, url);
    const open = () => (this.kv ? controlRecordsOn(this.kv, openSqliteStore(db)) : openSqliteStore(db));
    let mode: StartMode;
    if (!existsSync(db) && !onEtcd) {
      mode = await this.chooseMode(true);
      this.store = open();
    } else {
      this.store = open();
      mode = await this.chooseMode(await isStoreNew(this.store, this.opts.config));
    }
    // Only once the start is decided: a refused start creates no file.
    this.kv ??= await openControlKv(this.paths, url);
    return mode;
  }

  private async chooseMode(storeNew: boolean): Promise<StartMode> {
    // Earlier state only matters to a new store: a store with state is the usual restart.
    this.earlier = storeNew ? await findEarlierState(this.paths) : null;
    return chooseStartMode({
      storeNew,
      earlier: this.earlier,
      recovery: this.opts.recovery,
      paths: this.paths,
    });
  }

  /** Opens the log and builds the parts (router client, supervisor, app hosts, deployer); none acts yet. */
  private assemble(): void {
    const logger = (this.logger = this.opts.openLog(this.paths.log));
    const parts = assembleParts({
      config: this.live,
      paths: this.paths,
      store: this.store!,
      kv: this.kv!,
      records: this.store!,
      logger,
      tickMs: this.opts.tickMs ?? 100,
      accounts: this.accounts,
      knownSecrets: [this.token],
      artifactOf: catalogArtifacts((this.catalog = new KvReleaseCatalog(this.kv!)), this.live),
    });
    this.router = parts.router;
    this.supervisor = parts.supervisor;
    this.parts = parts;
    this.hosts = parts.hosts;
    this.deployer = parts.deployer;
    this.publisher = parts.events;
    this.metrics = parts.metrics;
    this.createHost = parts.createHost;
    this.trust = createTrustPart({
      kv: this.kv!,
      store: this.store!,
      logger,
      agents: () => this.agentsAddress,
    });
    this.applier = new ConfigApplier({
      live: this.live,
      hosts: this.hosts,
      createHost: parts.createHost,
      accounts: this.accounts,
      deployer: parts.deployer,
      store: this.store!,
      router: parts.router,
      logger,
      protect: (config, accounts) => protectDataDir(this.paths, config, accounts),
      events: parts.events,
      locks: parts.locks.port,
      setDesired: (app, env, change) =>
        change === null
          ? parts.link.remove(LOCAL_HOST, app, env)
          : parts.link.edit(LOCAL_HOST, app, env, change),
      now: () => Date.now(),
    });
  }

  /** The API, listening from here on; until the daemon is ready it answers 503 FERRY_E_DAEMON_STARTING. */
  private async listenApi(): Promise<void> {
    this.targets = await startExternalTargets({ kv: this.kv!, logger: this.logger! });
    this.fleet = new Fleet({
      config: this.live,
      kv: this.kv!,
      trust: this.trust!.trust,
      exchange: this.parts!.exchange,
      link: this.parts!.link,
      store: this.store!,
      decisions: new RecentDecisions({ clock: systemClock, logger: this.logger! }),
      clock: systemClock,
      logger: this.logger!.child({ part: 'fleet' }),
      artifactOf: catalogArtifacts(this.catalog!, this.live),
    });
    // The intake deploys through the control's deploy path, which the control gets from here.
    let control: DaemonControl | null = null;
    this.releases = createReleasePart({
      kv: this.kv!,
      catalog: this.catalog!,
      config: this.live,
      store: this.store!,
      control: { deploy: (body, actor) => control!.deploy(body, actor) },
      fleet: this.fleet,
      clock: systemClock,
      logger: this.logger!.child({ part: 'releases' }),
      events: this.publisher!,
    });
    control = new DaemonControl({
      releases: this.releases.releases,
      config: this.live,
      store: this.store!,
      deployer: this.deployer!,
      hosts: this.hosts,
      applier: this.applier!,
      readConfig: (body) => this.readConfig(body),
      version: FERRY_VERSION,
      startedAt: Date.now(),
      routerPid: () => this.routerPid,
      routerStatus: () => this.routerWatch?.status() ?? STARTING_ROUTER,
      events: this.publisher!,
      metrics: this.metrics!,
      hostsView: () => hostsView(this.parts!.exchange, () => this.trust!.trust.listHosts()),
      trust: this.trust!.operator,
      locks: this.parts!.locks,
      liveCounters: async (state, versions) => {
        const { link, windows } = this.parts!;
        const report = await link.report(LOCAL_HOST, state.app, state.env);
        return liveCounters(report, windows, `${state.app}.${state.env}`, versions);
      },
      targets: this.targets,
      fleet: this.fleet,
    });
    await this.listenForTriggers();
    const api = (this.api = createApiServer({
      control,
      token: this.token,
      logger: this.logger!,
      isReady: () => this.state === 'running',
      https: this.tls,
    }));
    const { host, port } = this.opts.config.api.listen;
    try {
      await api.listen({ host, port });
    } catch (error) {
      throw new FerryError(
        'FERRY_E_PORT_IN_USE',
        `the API cannot listen on ${host}:${port}: ${messageOf(error)}`,
        { where: `${host}:${port}` },
        { cause: error },
      );
    }
    this.apiUrl = apiUrlOf({ host, port }, this.tls !== null);
    withDataDirWrites(this.paths.home, () => this.lock!.writeRecord(this.apiUrl));
    const metricsListen = this.opts.config.metrics.listen;
    if (metricsListen !== null) this.metricsServer = await listenMetrics(this.metrics!, metricsListen);
  }

  /** Webhooks offer releases to the intake, on an address of their own (`triggers` in ferry.yaml). */
  private async listenForTriggers(): Promise<void> {
    const settings = this.live.current.triggers;
    if (settings === null) return;
    const store = this.store!;
    const releases = this.releases!;
    this.triggers = await listenForTriggers({
      settings,
      config: this.live,
      offer: (candidate) => releases.intake.offer(candidate),
      deliveries: releases.deliveries,
      pollSources: async (app) => releases.sources()?.pollNow(app),
      audit: (entry) => store.audit(entry),
      clock: systemClock,
      logger: this.logger!.child({ part: 'triggers' }),
    });
    this.logger!.info({ url: this.triggers.url }, 'webhooks are received here');
  }

  /** Agents of other hosts enroll and connect on an HTTPS address of their own (`server` in ferry.yaml). */
  private async listenForAgents(): Promise<void> {
    const settings = this.live.current.server;
    if (settings === null) return;
    this.agents = await listenForAgents({
      settings,
      dataDir: this.paths.home,
      exchange: this.parts!.exchange,
      trust: this.trust!.trust,
      logger: this.logger!,
    });
    const { url, tls } = this.agents;
    this.logger!.info({ url, caFingerprint: tls.caFingerprint, tls: tls.source }, 'agents connect here');
  }

  /** Where agents connect and the CA fingerprint they pin; null when this daemon takes no agents. */
  get agentsAddress(): { readonly url: string; readonly caFingerprint: string } | null {
    return this.agents ? { url: this.agents.url, caFingerprint: this.agents.tls.caFingerprint } : null;
  }

  /**
   * --adopt records what runs as the store's state; --reset stops it. Each leaves a trace in the
   * store, as a fresh start does, so that a start killed before its first deployment is resumed
   * next time rather than taken for a lost store.
   */
  private async applyStartMode(mode: StartMode): Promise<void> {
    const earlier = this.earlier;
    if (mode === 'fresh') {
      await this.store!.audit({
        at: Date.now(),
        actor: 'ferry up',
        action: 'init',
        target: 'data directory',
      });
    } else if (mode === 'adopt' && earlier) {
      this.adopted = await adoptRunning({
        store: this.store!,
        config: this.opts.config,
        processes: earlier.processes,
        routes: earlier.routes,
        now: Date.now(),
      });
    } else if (mode === 'reset') {
      await resetDataDir({ paths: this.paths, store: this.store!, now: Date.now(), logger: this.logger! });
      await resetControlKv(this.kv!, this.paths);
    }
  }

  /** Reuses the router that outlived the last daemon, or starts one. */
  private async startRouter(): Promise<void> {
    const { pid, started, upgradedFrom } = await this.router!.ensureRunning();
    this.routerPid = pid;
    this.routerStarted = started;
    if (upgradedFrom !== undefined)
      this.logger!.info({ from: upgradedFrom, pid }, 'the router was handed over to this version');
    // The router made its directory: now every path's mode can be set for the apps' accounts.
    protectDataDir(this.paths, this.opts.config, this.accounts);
  }

  /**
   * From here on the daemon watches the router: a keeper that dies is brought back (or replaced by
   * its workers' successor) and gets every route again, which is why the hosts must know their
   * instances first.
   */
  private async watchRouter(): Promise<void> {
    const logger = this.logger!;
    const watch = (this.routerWatch = new RouterWatch({
      router: this.router!,
      clock: systemClock,
      onReplaced: async (pid) => {
        this.routerPid = pid;
        logger.warn({ pid }, 'the router keeper was replaced; pushing every route again');
        await Promise.all([...this.hosts.values()].map((host) => host.republishRoute()));
      },
      onProblem: (message) => {
        logger.error({ router: this.routerPid }, message);
        this.notices.emit('notice', { level: 'error', message });
      },
      onRecovered: (message) => {
        logger.info({ router: this.routerPid }, message);
        this.notices.emit('notice', { level: 'info', message });
      },
      onChange: (change) => this.publisher!.publish({ kind: 'router', app: null, env: null, ...change }),
    }));
    watch.start(await this.router!.health());
  }

  /**
   * Reconciles the processes carrying this data directory's marker with the instance records: known
   * ones are adopted by their app host, orphans are stopped (never under --adopt, which kills nothing).
   */
  private async adoptInstances(mode: StartMode): Promise<void> {
    const store = this.store!;
    const records = await store.listInstances();
    const adopted = await reapOrphans(this.supervisor!, records, this.logger!, {
      stopOrphans: mode !== 'adopt',
    });
    await this.hostUnconfigured(adopted);
    for (const host of this.hosts.values()) {
      const [app, env] = host.key.split('.') as [string, string];
      await host.adopt(
        adopted.filter((r) => r.app === app && r.env === env),
        (await store.getCurrent(app, env)) ?? null,
      );
    }
    // The process view of `ferry status` (CPU over the last interval, memory), as pm2 ls shows it.
    this.supervisor!.startSampling(USAGE_SAMPLE_MS);
  }

  /**
   * Apps that left ferry.yaml (`ferry apply` without --prune) but whose instances still run get a
   * host again, configured from their processes and their route: they stay served, supervised and
   * shown as "not in config" until `ferry apply --prune` stops them.
   */
  private async hostUnconfigured(records: readonly InstanceRecord[]): Promise<void> {
    const routes = await this.router!.routes().catch(() => []);
    const byKey = new Map<string, InstanceRecord[]>();
    for (const record of records) {
      const key = `${record.app}.${record.env}`;
      if (this.hosts.has(key)) continue;
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
      if (account) this.accounts.set(name, account);
      this.hosts.set(key, this.createHost!(found.app, env, found.settings));
      this.logger!.warn(
        { app: name, env },
        'not in the configuration but still running; ferry apply --prune stops it',
      );
    }
  }

  /** Every deployment that was not final resumes; apps without one run their current release again. */
  private async resumeDeployments(): Promise<void> {
    const logger = this.logger!;
    // Instances write straight to their files; rotation is copy-truncate (10 MiB, 3 kept).
    this.rotator = new LogRotator(() => [...this.hosts.values()].flatMap((h) => h.logFiles()), {
      maxBytes: 10 * 1024 * 1024,
      keep: 3,
      intervalMs: 30_000,
      onError: (file, error) => logger.warn({ file, err: error }, 'log rotation failed'),
    });
    this.rotator.start();
    // The agent first: it brings the host to its desired state (kept on disk, then the store's),
    // and its first report tells the control plane what runs before anything is decided on it.
    const { agent, exchange } = this.parts!;
    const reported = exchange.waitForReport(LOCAL_HOST, () => true, AbortSignal.timeout(FIRST_REPORT_MS));
    await agent.start();
    await reported.catch((error: unknown) =>
      logger.warn({ err: error }, 'the embedded agent has not reported yet; going on without its report'),
    );
    await this.deployer!.recover();
    // The environments on enrolled hosts: their rollouts resume and follow the hosts' reports.
    await this.fleet!.start();
    await this.restoreSteadyState();
  }

  /** The API serves, and daemon.json tells local CLIs where (with the pid and its start time). */
  private markReady(): void {
    withDataDirWrites(this.paths.home, () =>
      writeDaemonInfo(this.paths.home, {
        pid: process.pid,
        pidStart: this.lock!.pidStart,
        url: this.apiUrl,
        startedAt: Date.now(),
        version: FERRY_VERSION,
        ...(this.opts.config.api.tls ? { certFile: this.opts.config.api.tls.certFile } : {}),
      }),
    );
    this.daemonFileWritten = true;
    this.state = 'running';
    publishConfigApplied(this.publisher!, this.live.current, 'start');
  }

  /**
   * Apps with no running deployment and no desired state yet on this host (a store from before
   * desired states, or --adopt): their current release with its configured instances becomes it.
   * An app with one is left as it is: the agent brings the host to it.
   */
  private async restoreSteadyState(): Promise<void> {
    const link = this.parts!.link;
    const desired = await this.parts!.exchange.desiredState(LOCAL_HOST);
    for (const host of this.hosts.values()) {
      const { name: app } = host.app;
      const { env } = host;
      if (desired?.apps.some((a) => a.app === app && a.env === env)) continue;
      const current = await this.store!.getCurrent(app, env);
      if (!current || (await this.store!.activeDeployment(app, env))) continue;
      const adopted = this.adopted.find((a) => a.app === app && a.env === env);
      await link
        .edit(LOCAL_HOST, app, env, (doc) => {
          const steady = steadyApp(doc, current, host.settings.instances);
          // --adopt: the route's weights as the router's table had them (a canary's included).
          return adopted && adopted.weights.size > 0 ? adoptedWeights(steady, adopted.weights, host) : steady;
        })
        .catch((error: unknown) =>
          this.logger!.error({ err: error, app, env }, 'could not restart the current release'),
        );
    }
  }

  /**
   * ferry.yaml changed while the daemon was down: apps whose instances run an earlier run
   * configuration (their digest differs) or more instances than configured are restarted, batch by
   * batch, like `ferry apply` does. An app with a deployment running keeps its change for `ferry
   * apply` once that deployment ended.
   */
  private async reconcileRunConfig(): Promise<void> {
    for (const host of this.hosts.values()) {
      const { name: app } = host.app;
      const { env } = host;
      if (!Object.hasOwn(this.live.current.apps, app)) continue;
      const current = await this.store!.getCurrent(app, env);
      if (!current || (await this.store!.activeDeployment(app, env))) continue;
      const stale = host.staleInstances(current).length;
      const extra = host.instanceIds(current).length > host.settings.instances;
      if (stale === 0 && !extra) continue;
      this.logger!.info({ app, env, stale }, 'ferry.yaml changed how the app runs: restarting it');
      await this.deployer!.restart({ app, env, actor: 'ferry up' }).catch((error: unknown) =>
        this.logger!.error({ err: error, app, env }, 'could not restart the app with its new configuration'),
      );
    }
  }

  /**
   * `ferry apply` without a file, and SIGHUP: the file the daemon was started with, read again and
   * applied (without pruning). Refused (nothing changed) like any apply.
   */
  async reload(actor = 'SIGHUP'): Promise<ConfigApplied> {
    if (this.state !== 'running')
      throw new FerryError('FERRY_E_ILLEGAL_STATE', `daemon is ${this.state}; cannot apply a configuration`);
    return this.applier!.apply(this.readConfig({}), { prune: false, actor, source: 'reload' });
  }

  /**
   * A configuration to apply: the text a client sent (relative paths against `path`'s directory),
   * or the file the daemon was started with. An unset data_dir means this daemon's.
   */
  private readConfig(body: { config?: string; path?: string }): FerryConfig {
    const env = { ...process.env, FERRY_HOME: this.paths.home };
    if (body.config !== undefined) return parseConfig(body.config, { configPath: body.path ?? null, env });
    const file = this.live.current.configPath;
    if (file === null)
      throw new FerryError(
        'FERRY_E_CONFIG_NOT_FOUND',
        'the daemon was started without a configuration file: send one (ferry apply -c ferry.yaml)',
      );
    return loadConfig(file, env);
  }

  private async deployInitialReleases(): Promise<void> {
    for (const [appName, app] of Object.entries(this.live.current.apps)) {
      if (!app.initialRelease) continue;
      for (const env of Object.keys(app.environments)) {
        if (this.fleet!.has(env)) {
          // On enrolled hosts: the first rollout there makes it the release hosts join with.
          if ((await this.fleet!.rollout(appName, env)) === null)
            await this.fleet!.deploy({ app: appName, env, version: app.initialRelease, actor: 'ferry up' });
          continue;
        }
        if (
          (await this.store!.getCurrent(appName, env)) ||
          (await this.store!.activeDeployment(appName, env))
        )
          continue;
        // Queued behind a lock that holds the app: it starts once the lock goes.
        await this.deployer!.deployOrQueue({
          app: appName,
          env,
          version: app.initialRelease,
          actor: 'ferry up',
        });
      }
    }
  }

  /** Waits until no deployment runs (used by `ferry up` to print the ready message). */
  async idle(): Promise<void> {
    for (;;) {
      const active = await this.store!.activeDeployments();
      const runs = active.flatMap((d) => this.deployer?.run(d.id) ?? []);
      if (runs.length === 0) return;
      await Promise.all(runs.map((run) => run.whenFinished()));
    }
  }

  /** Ordered shutdown: API, deployment runs, health checks; the router and the apps keep running. */
  async stop(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'stopping') return;
    this.state = 'stopping';
    await this.detachParts();
    await this.store?.close();
    await this.kv?.close();
    if (this.daemonFileWritten) rmSync(this.paths.daemonFile, { force: true });
    await this.lock?.release();
    this.state = 'stopped';
  }

  /** Stops what the daemon runs itself; never a router or an instance (they outlive the daemon). */
  private async detachParts(): Promise<void> {
    await this.api?.close();
    await this.agents?.close();
    await this.triggers?.close();
    await this.releases?.stop();
    await this.targets?.close();
    await this.fleet?.close();
    await this.metricsServer?.close();
    this.metrics?.close();
    this.routerWatch?.stop();
    this.deployer?.stop();
    this.parts?.locks.stop();
    this.parts?.notifier.stop();
    await this.parts?.agent.stop();
    this.parts?.exchange.close();
    this.trust?.trust.close();
    this.rotator?.stop();
    for (const host of this.hosts.values()) host.close();
    this.supervisor?.detach();
  }

  /**
   * A failed start: each step's work undone, in reverse. A router this start spawned is stopped
   * unless it serves instances by now; one that was already running is left alone.
   */
  private async undoStart(cause: unknown): Promise<void> {
    this.state = 'stopping';
    const undo = async (what: string, work: () => unknown): Promise<void> => {
      try {
        await work();
      } catch (error) {
        this.logger?.warn({ err: error, cause: messageOf(cause) }, `failed start: could not ${what}`);
      }
    };
    await undo('stop the API and the parts', () => this.detachParts());
    if (this.routerStarted) await undo('stop the router it started', () => this.stopIdleRouter());
    await undo('close the store', () => this.store?.close());
    await undo('close the key-value store', () => this.kv?.close());
    if (this.daemonFileWritten)
      await undo('remove daemon.json', () => rmSync(this.paths.daemonFile, { force: true }));
    await undo('release the lock', () => this.lock?.release());
    this.state = 'stopped';
  }

  private async stopIdleRouter(): Promise<void> {
    const router = this.router!;
    const routes = await router.routes().catch(() => []);
    if (routes.some((route) => route.backends.length > 0)) return;
    await router.stop();
  }
}
