import { EventEmitter } from 'node:events';
import { rmSync } from 'node:fs';
import { writeDaemonInfo } from '../api/discovery.js';
import { loadApiTls, type ApiTls } from '../api/tls.js';
import { loadConfig, parseConfig } from '../config/load.js';
import type { FerryConfig } from '../config/types.js';
import { FerryError, messageOf } from '../errors/ferry-error.js';
import type { Logger } from '../lib/logger.js';
import type { RouterChangeKind } from '../protocol/report.js';
import { FERRY_VERSION } from '../lib/version.js';
import { publishConfigApplied } from '../events/config-applied.js';
import type { EventPublisher } from '../events/publisher.js';
import type { DaemonMetrics } from '../metrics/daemon-metrics.js';
import type { Deployer } from '../runtime/deployer.js';
import type { KvStore } from '../store/kv/kv.js';
import type { InstanceStore, Store } from '../store/store.js';
import { resolveAppAccounts, type RunAccount } from '../supervisor/index.js';
import { catalogArtifacts } from '../releases/artifact-of.js';
import { KvReleaseCatalog } from '../releases/kv-catalog.js';
import { ConfigApplier, type ConfigApplied } from './config-apply.js';
import type { AdoptedApp } from './adopt-running.js';
import { protectDataDir } from './data-dir-access.js';
import { withDataDirWrites } from './data-dir.js';
import type { Recovery, StartMode } from './earlier-state.js';
import type { DaemonLock } from './lock.js';
import { LOCAL_HOST, type LocalHost } from './local-host.js';
import { assembleParts, type DaemonParts } from './parts.js';
import { daemonPaths } from './paths.js';
import { ServerApi } from './server-api.js';
import { ServerData } from './server-data.js';
import { deployInitialReleases } from './initial-releases.js';
import { restartDriftedApps } from './run-config-restart.js';
import { restoreSteadyStates } from './steady-state.js';
import { createTrustPart, type TrustPart } from './trust-part.js';
import { systemClock } from '../lib/clock.js';
import { EnrolledHosts } from '../server/fleet/enrolled-hosts.js';

/** Which changes of this host's router are an operator's notice (`ferry up` prints them), and how. */
const NOTICE_LEVELS: Partial<Record<RouterChangeKind, 'error' | 'info'>> = {
  'keeper-down': 'error',
  'keeper-unrecoverable': 'error',
  trouble: 'error',
  recovered: 'info',
};

/** How long the start waits for the embedded agent's first report. */
const FIRST_REPORT_MS = 10_000;

export type DaemonState = 'starting' | 'running' | 'stopping' | 'stopped';

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
 * The daemon of `ferry up` and `ferry server`: the server (store, deployer, API, `ServerApi`) composed
 * with its own host (`LocalHost`: router, supervisor, app hosts, the embedded agent), started in
 * one order and undone in reverse (docs/architecture.md#composition-roots). Its children (the
 * router and the app instances) outlive it: stopping or killing the daemon drops no request, and
 * the next start re-adopts them and resumes interrupted deployments.
 */
export class Daemon {
  state: DaemonState = 'stopped';
  /** The data directory's lock, the API token, the store and the key-value store. */
  private readonly data: ServerData;
  private logger: Logger | null = null;
  private deployer: Deployer | null = null;
  private publisher: EventPublisher | null = null;
  private metrics: DaemonMetrics | null = null;
  /** Releases found by sources, webhooks and users (docs/triggers.md). */
  private catalog: KvReleaseCatalog | null = null;
  private parts: DaemonParts | null = null;
  /** The server's edges (API, webhooks, agents, metrics) and what runs behind them. */
  private server: ServerApi | null = null;
  /** The server's own host: router, supervisor, app hosts, the embedded agent. */
  private local: LocalHost | null = null;
  /** Enrollment: join tokens, hosts, agent credentials, over the key-value store. */
  private trust: TrustPart | null = null;
  private applier: ConfigApplier | null = null;
  /** The configuration in effect: the file `ferry up` read, until `ferry apply` (or SIGHUP) replaces it. */
  private readonly live: { current: FerryConfig };
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
    this.data = new ServerData(this.paths, opts.config, opts.recovery);
  }

  private get lock(): DaemonLock | null {
    return this.data.lock;
  }

  private get token(): string {
    return this.data.token;
  }

  private get store(): (Store & InstanceStore) | null {
    return this.data.store;
  }

  private get kv(): KvStore | null {
    return this.data.kv;
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
      await this.data.claim();
      const mode = await this.data.open();
      this.assemble();
      await this.listenApi();
      await this.listenForAgents();
      this.adopted = await this.data.applyStartMode(mode, this.logger!);
      await this.startRouter();
      await this.adoptInstances(mode);
      await this.watchRouter();
      await this.resumeDeployments();
      this.markReady();
      await this.parts!.locks.start();
      // Releases that were waiting (a window, a debounce) are taken up once deployments may start.
      await this.server!.releases!.start();
      if (mode !== 'adopt') {
        await this.reconcileRunConfig();
        await this.deployInitialReleases();
      }
    } catch (error) {
      await this.undoStart(error);
      throw error;
    }
  }

  /** Opens the log and builds the parts (router client, supervisor, app hosts, deployer); none acts yet. */
  private assemble(): void {
    const logger = (this.logger = this.opts.openLog(this.paths.log));
    this.trust = createTrustPart({
      kv: this.kv!,
      store: this.store!,
      logger,
      agents: () => this.agentsAddress,
    });
    const enrolled = new EnrolledHosts(this.trust.trust, systemClock);
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
      enrolledHost: (host) => enrolled.byId(host),
    });
    this.parts = parts;
    // The operator's notices (`ferry up` prints them): this host's router going wrong, and right again.
    parts.events.subscribe((event) => {
      if (event.kind !== 'router' || event.host !== undefined) return;
      const level = NOTICE_LEVELS[event.change];
      if (level !== undefined) this.notices.emit('notice', { level, message: event.message });
    });
    const local = (this.local = parts.local);
    this.deployer = parts.deployer;
    this.publisher = parts.events;
    this.metrics = parts.metrics;
    this.applier = new ConfigApplier({
      live: this.live,
      specs: local.specs,
      hostReport: () => parts.exchange.latestReport(LOCAL_HOST)?.report ?? null,
      accounts: this.accounts,
      deployer: parts.deployer,
      store: this.store!,
      logger,
      protect: (config, accounts) => protectDataDir(this.paths, config, accounts),
      events: parts.events,
      locks: parts.locks.port,
      fleet: () => this.server?.fleet ?? null,
      hostReported: (done, timeoutMs) =>
        parts.exchange
          .waitForReport(LOCAL_HOST, ({ report }) => done(report), AbortSignal.timeout(timeoutMs))
          .then(
            () => undefined,
            (error: unknown) =>
              logger.warn({ err: error }, 'the host has not reported the applied change yet'),
          ),
      setDesired: (app, env, change) =>
        change === null
          ? parts.link.remove(LOCAL_HOST, app, env)
          : parts.link.edit(LOCAL_HOST, app, env, change),
      now: () => Date.now(),
    });
  }

  /** The API, listening from here on; until the daemon is ready it answers 503 FERRY_E_DAEMON_STARTING. */
  private async listenApi(): Promise<void> {
    this.server = new ServerApi({
      live: this.live,
      started: this.opts.config,
      paths: this.paths,
      lock: this.lock!,
      store: this.store!,
      kv: this.kv!,
      catalog: this.catalog!,
      parts: this.parts!,
      trust: this.trust!,
      applier: this.applier!,
      token: this.token,
      tls: this.tls,
      logger: this.logger!,
      isReady: () => this.state === 'running',
      readConfig: (body) => this.readConfig(body),
    });
    await this.server.listen();
    this.apiUrl = this.server.apiUrl;
  }

  /** Agents of other hosts enroll and connect on an HTTPS address of their own (`server` in ferry.yaml). */
  private async listenForAgents(): Promise<void> {
    await this.server!.listenForAgents();
  }

  /** Where agents connect and the CA fingerprint they pin; null when this daemon takes no agents. */
  get agentsAddress(): { readonly url: string; readonly caFingerprint: string } | null {
    return this.server?.agentsAddress ?? null;
  }

  /** Reuses the router that outlived the last daemon, or starts one. */
  private async startRouter(): Promise<void> {
    await this.local!.startRouter();
    // The router made its directory: now every path's mode can be set for the apps' accounts.
    protectDataDir(this.paths, this.opts.config, this.accounts);
  }

  /** From here on the router is watched; its changes come in the host's reports, as any host's. */
  private async watchRouter(): Promise<void> {
    await this.local!.watchRouter();
  }

  /** The instances that outlived the daemon, adopted (orphans stopped, never under --adopt). */
  private async adoptInstances(mode: StartMode): Promise<void> {
    await this.local!.adoptInstances(mode !== 'adopt');
  }

  /** Every deployment that was not final resumes; apps without one run their current release again. */
  private async resumeDeployments(): Promise<void> {
    const logger = this.logger!;
    this.local!.startLogRotation();
    // The agent first: it brings the host to its desired state (kept on disk, then the store's),
    // and its first report tells the control plane what runs before anything is decided on it.
    const { exchange } = this.parts!;
    const { agent } = this.local!;
    const reported = exchange.waitForReport(LOCAL_HOST, () => true, AbortSignal.timeout(FIRST_REPORT_MS));
    await agent.start();
    await reported.catch((error: unknown) =>
      logger.warn({ err: error }, 'the embedded agent has not reported yet; going on without its report'),
    );
    await this.deployer!.recover();
    // The environments on enrolled hosts: their rollouts resume and follow the hosts' reports.
    await this.server!.fleet!.start();
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

  /** Apps with no deployment and no desired state yet on this host run their current release. */
  private async restoreSteadyState(): Promise<void> {
    const { link, exchange } = this.parts!;
    await restoreSteadyStates({
      report: exchange.latestReport(LOCAL_HOST)?.report ?? null,
      config: this.live.current,
      desired: await exchange.desiredState(LOCAL_HOST),
      link,
      ledger: this.store!,
      adopted: this.adopted,
      logger: this.logger!,
    });
  }

  /**
   * Apps whose run configuration changed while the daemon was down restart (by the deployer), as
   * the host's report shows them: instances it reports stale, or more than configured.
   */
  private async reconcileRunConfig(): Promise<void> {
    await restartDriftedApps({
      report: this.parts!.exchange.latestReport(LOCAL_HOST)?.report ?? null,
      config: this.live.current,
      ledger: this.store!,
      restart: (app, env) => this.deployer!.restart({ app, env, actor: 'ferry up' }),
      logger: this.logger!,
    });
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

  /** Each app's `initial_release` where it has none yet (here, or a rollout on enrolled hosts). */
  private async deployInitialReleases(): Promise<void> {
    await deployInitialReleases({
      config: this.live.current,
      fleet: this.server!.fleet!,
      ledger: this.store!,
      deployer: this.deployer!,
    });
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
    await this.server?.close();
    this.metrics?.close();
    this.local?.stopWatchingRouter();
    this.deployer?.stop();
    this.parts?.locks.stop();
    this.parts?.notifier.stop();
    this.parts?.hostEvents.stop();
    await this.local?.agent.stop();
    this.parts?.exchange.close();
    this.trust?.trust.close();
    this.local?.detach();
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
    if (this.local?.routerSpawned)
      await undo('stop the router it started', () => this.local?.stopIdleRouter());
    await undo('close the store', () => this.store?.close());
    await undo('close the key-value store', () => this.kv?.close());
    if (this.daemonFileWritten)
      await undo('remove daemon.json', () => rmSync(this.paths.daemonFile, { force: true }));
    await undo('release the lock', () => this.lock?.release());
    this.state = 'stopped';
  }
}
