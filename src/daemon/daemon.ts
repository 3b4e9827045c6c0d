import { EventEmitter } from 'node:events';
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { AppHost } from '../agent/app-host.js';
import { ensureToken, readDaemonInfo, writeDaemonInfo } from '../api/discovery.js';
import { createApiServer } from '../api/server.js';
import type { FerryConfig } from '../config/types.js';
import { FerryError, messageOf } from '../errors/ferry-error.js';
import type { Logger } from '../lib/logger.js';
import { systemClock } from '../lib/clock.js';
import { FERRY_VERSION } from '../lib/version.js';
import { RouterClient } from '../router/client.js';
import { Deployer } from '../runtime/deployer.js';
import { HostEffects } from '../runtime/effects.js';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';
import type { Store } from '../store/store.js';
import { LogRotator, Supervisor } from '../supervisor/index.js';
import { DaemonControl } from './control.js';
import { finishDeployment } from './finish.js';
import { daemonPaths } from './paths.js';
import { reapOrphans } from './orphans.js';
import { RouterWatch } from './router-watch.js';

export type DaemonState = 'starting' | 'running' | 'stopping' | 'stopped';

export interface DaemonOptions {
  readonly config: FerryConfig;
  readonly logger: Logger;
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
  private store: Store | null = null;
  private api: FastifyInstance | null = null;
  private deployer: Deployer | null = null;
  private supervisor: Supervisor | null = null;
  private readonly hosts = new Map<string, AppHost>();
  private routerPid: number | null = null;
  private routerWatch: RouterWatch | null = null;
  private rotator: LogRotator | null = null;
  /** Operator notices (the router down, back): `ferry up` prints them; they are in the log too. */
  readonly notices = new EventEmitter();
  readonly paths;
  apiUrl = '';

  constructor(private readonly opts: DaemonOptions) {
    this.paths = daemonPaths(opts.config.dataDir);
  }

  /** Deployment states and events as they are persisted (for printing and streaming). */
  get bus(): EventEmitter {
    if (!this.deployer)
      throw new FerryError('FERRY_E_ILLEGAL_STATE', `daemon is ${this.state}; it has no event bus yet`);
    return this.deployer.bus;
  }

  async start(): Promise<void> {
    if (this.state !== 'stopped')
      throw new FerryError('FERRY_E_ILLEGAL_STATE', `daemon is ${this.state}; cannot start`);
    this.state = 'starting';
    const { config, logger } = this.opts;
    mkdirSync(this.paths.home, { recursive: true, mode: 0o700 });
    // The directory holds the API token: owner-only, whoever created it.
    chmodSync(this.paths.home, 0o700);
    this.assertNotRunning();
    const token = ensureToken(this.paths.home);
    const store = (this.store = openSqliteStore(this.paths.db));
    const router = new RouterClient({
      stateDir: this.paths.routerDir,
      logger,
      workers: config.router.workers,
    });
    const ensured = await router.ensureRunning();
    this.routerPid = ensured.pid;
    if (ensured.upgradedFrom !== undefined)
      logger.info(
        { from: ensured.upgradedFrom, pid: ensured.pid },
        'the router was handed over to this version',
      );

    const supervisor = (this.supervisor = new Supervisor({
      ferryHome: this.paths.home,
      onEvent: (event) => {
        for (const host of this.hosts.values()) if (host.owns(event.id)) host.onSupervisorEvent(event);
      },
    }));
    const now = () => Date.now();
    for (const [appName, app] of Object.entries(config.apps)) {
      for (const [env, settings] of Object.entries(app.environments)) {
        const host = new AppHost({
          app,
          env,
          settings,
          dir: this.paths.appDir(appName, env),
          ferryHome: this.paths.home,
          store,
          supervisor,
          router,
          holdTimeoutMs: config.router.holdTimeoutMs,
          logger: logger.child({ app: appName, env }),
          now,
        });
        this.hosts.set(host.key, host);
      }
    }
    const records = await store.listInstances();
    const adopted = await reapOrphans(supervisor, records, logger);
    for (const host of this.hosts.values()) {
      const [app, env] = host.key.split('.') as [string, string];
      await host.adopt(
        adopted.filter((r) => r.app === app && r.env === env),
        (await store.getCurrent(app, env)) ?? null,
      );
    }

    const hostFor = (app: string, env: string) => this.hosts.get(`${app}.${env}`)!;
    const effects = new HostEffects({
      store,
      hostFor,
      appFor: (app) => config.apps[app]!,
      artifactCache: config.artifacts,
      now,
    });
    const deployer = (this.deployer = new Deployer({
      config,
      store,
      effects,
      logger,
      now,
      tickMs: this.opts.tickMs ?? 100,
    }));
    deployer.onFinished = (final) =>
      finishDeployment(final, { config, store, host: hostFor(final.app, final.env), logger });
    // Instances write straight to their files; rotation is copy-truncate (10 MiB, 3 kept).
    this.rotator = new LogRotator(() => [...this.hosts.values()].flatMap((h) => h.logFiles()), {
      maxBytes: 10 * 1024 * 1024,
      keep: 3,
      intervalMs: 30_000,
      onError: (file, error) => logger.warn({ file, err: error }, 'log rotation failed'),
    });
    this.rotator.start();
    await deployer.recover();
    await this.restoreSteadyState();

    const watch = (this.routerWatch = new RouterWatch({
      router,
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
    }));
    watch.start(await router.health());

    const control = new DaemonControl({
      config,
      store,
      deployer,
      hosts: this.hosts,
      version: FERRY_VERSION,
      startedAt: Date.now(),
      routerPid: () => this.routerPid,
      routerStatus: () => watch.status(),
    });
    this.api = createApiServer({ control, token, logger });
    const { host, port } = config.api.listen;
    try {
      await this.api.listen({ host, port });
    } catch (error) {
      throw new FerryError(
        'FERRY_E_PORT_IN_USE',
        `the API cannot listen on ${host}:${port}: ${messageOf(error)}`,
        { where: `${host}:${port}` },
        { cause: error },
      );
    }
    this.apiUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    writeDaemonInfo(this.paths.home, {
      pid: process.pid,
      url: this.apiUrl,
      startedAt: Date.now(),
      version: FERRY_VERSION,
    });
    this.state = 'running';
    await this.deployInitialReleases();
  }

  /** Apps with no running deployment: their current release runs its configured instances again. */
  private async restoreSteadyState(): Promise<void> {
    for (const host of this.hosts.values()) {
      const [app, env] = host.key.split('.') as [string, string];
      const current = await this.store!.getCurrent(app, env);
      if (!current || (await this.store!.activeDeployment(app, env))) continue;
      const count = this.opts.config.apps[app]!.environments[env]!.instances;
      await host
        .ensureInstances(current, count)
        .catch((error: unknown) =>
          this.opts.logger.error({ err: error, app, env }, 'could not restart the current release'),
        );
    }
  }

  private async deployInitialReleases(): Promise<void> {
    for (const [appName, app] of Object.entries(this.opts.config.apps)) {
      if (!app.initialRelease) continue;
      for (const env of Object.keys(app.environments)) {
        if (
          (await this.store!.getCurrent(appName, env)) ||
          (await this.store!.activeDeployment(appName, env))
        )
          continue;
        await this.deployer!.deploy({ app: appName, env, version: app.initialRelease, actor: 'ferry up' });
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
    await this.api?.close();
    this.routerWatch?.stop();
    this.deployer?.stop();
    this.rotator?.stop();
    for (const host of this.hosts.values()) host.close();
    this.supervisor?.detach();
    await this.store?.close();
    rmSync(this.paths.daemonFile, { force: true });
    this.state = 'stopped';
  }

  private assertNotRunning(): void {
    const info = readDaemonInfo(this.paths.home);
    if (!info || info.pid === process.pid) return;
    try {
      process.kill(info.pid, 0);
    } catch {
      return; // a stale file from a daemon that died
    }
    throw new FerryError(
      'FERRY_E_DAEMON_RUNNING',
      `a Ferry daemon (pid ${info.pid}) already runs on ${this.paths.home} and serves ${info.url}`,
      { pid: info.pid },
    );
  }
}
