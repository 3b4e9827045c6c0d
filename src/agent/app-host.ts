import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { AppConfig, AppEnvironmentConfig } from '../config/types.js';
import type { ReleaseObservation } from '../engine/types.js';
import { FerryError } from '../errors/ferry-error.js';
import { HealthMonitor } from '../health/index.js';
import type { EventSink } from '../events/publisher.js';
import type { Logger } from '../lib/logger.js';
import { redactText } from '../lib/redact.js';
import type { RouterClient } from '../router/client.js';
import { RouteCounters } from './route-counters.js';
import type { InstanceExit, InstanceRecord, InstanceStore } from '../store/store.js';
import {
  allocatePort,
  readEnviron,
  RUN_DIGEST_VAR,
  runDigest,
  tailLog,
  type InstanceSpec,
  type RunAccount,
  type Supervisor,
  type SupervisorEvent,
} from '../supervisor/index.js';
import { appSecrets } from './app-secrets.js';
import { toHealthSpec } from './health-spec.js';
import { hookVariables, runHook } from './hooks.js';
import { isFailed, isRunning, type TrackedInstance } from './instance.js';
import type { AppHookRun, InstanceDescription } from './app-host-views.js';
import { appRoute } from './app-route.js';
import { instanceLogFile, instanceSpec, processEnvironment } from './instance-spec.js';
import type { InstanceChange } from '../protocol/report.js';
import { changeOf, describeInstance, recordStateOf } from './instance-changes.js';
import { routeName } from './traffic.js';

export interface AppHostDeps {
  readonly app: AppConfig;
  readonly env: string;
  readonly settings: AppEnvironmentConfig;
  /** apps/<app>/<env> under the data dir: releases/ and logs/ live here. */
  readonly dir: string;
  readonly ferryHome: string;
  /** This host's instance records (pids): host-local, never the control plane's. */
  readonly records: InstanceStore;
  readonly supervisor: Supervisor;
  readonly router: RouterClient;
  readonly holdTimeoutMs: number;
  readonly logger: Logger;
  readonly now: () => number;
  /** The app's processes (instances, hooks, command checks) run as this account (run.user). */
  readonly account?: RunAccount | null;
  /** Secrets of the daemon (the API token) that the app's evidence must never quote. */
  readonly knownSecrets?: readonly string[];
  /** Where instance and health changes are published (the daemon's event publisher). */
  readonly events?: EventSink;
}

export type { AppHookRun, InstanceDescription } from './app-host-views.js';

const LOG_TAIL_LINES = 20;

/**
 * Runs one app in one environment on this host: its instances (through the supervisor), their
 * health monitors, and its route in the router. The runtime's effects land here; every method is
 * idempotent so that replaying effects after a crash converges.
 */
export class AppHost {
  readonly releasesDir: string;
  private readonly instances = new Map<string, TrackedInstance>();
  private weights: Record<string, number> = {};
  /** The router's counters of this app's route: the canary's analysis window, the outcomes. */
  private readonly counters: RouteCounters;
  private routePush: Promise<void> = Promise.resolve();
  private closed = false;
  private secrets: readonly string[];

  constructor(private deps: AppHostDeps) {
    this.releasesDir = path.join(deps.dir, 'releases');
    this.secrets = appSecrets(deps.app, deps.settings.env, deps.knownSecrets ?? []);
    this.counters = new RouteCounters(deps.router, routeName(deps.app.name, deps.env));
  }

  /** The app's configuration this host runs with (the last applied). */
  get app(): AppConfig {
    return this.deps.app;
  }

  get env(): string {
    return this.deps.env;
  }

  get settings(): AppEnvironmentConfig {
    return this.deps.settings;
  }

  /**
   * `ferry apply`: the app's new configuration. Instances started from now on run with it; running
   * ones keep theirs until a restart replaces them. The route (listen address, router settings)
   * changes at once.
   */
  async reconfigure(
    next: Pick<AppHostDeps, 'app' | 'settings' | 'holdTimeoutMs' | 'account'>,
  ): Promise<void> {
    this.deps = { ...this.deps, ...next };
    this.secrets = appSecrets(next.app, next.settings.env, this.deps.knownSecrets ?? []);
    await this.pushRoute();
  }

  /** The run digest (see runDigest) an instance started now would carry. */
  desiredRunDigest(): string {
    return runDigest(this.specFor('digest', '', 0));
  }

  /**
   * Serving instances of the release whose run configuration differs from the app's now (an
   * instance adopted without a digest, started by an older Ferry, is taken as it is).
   */
  staleInstances(version: string): string[] {
    const desired = this.desiredRunDigest();
    return this.serving(version)
      .filter((i) => i.runDigest !== null && i.runDigest !== desired)
      .map((i) => i.record.id);
  }

  /** The route's weight per release now. */
  trafficWeights(): ReadonlyMap<string, number> {
    return new Map(Object.entries(this.weights));
  }

  /** Every instance with its release, serving (in the route) or retiring. */
  instanceViews(): Array<{ id: string; version: string; serving: boolean; healthy: boolean }> {
    return [...this.instances.values()].map((i) => ({
      id: i.record.id,
      version: i.record.version,
      serving: i.phase === 'serving',
      healthy: i.health === 'healthy',
    }));
  }

  /** The router's cumulative counters of this app's route per release (what a report carries). */
  routeCounters(): ReturnType<RouteCounters['cumulative']> {
    return this.counters.cumulative();
  }

  /** The ids of the release's serving instances. */
  instanceIds(version: string): string[] {
    return this.serving(version).map((i) => i.record.id);
  }

  private serving(version: string, exclude: readonly string[] = []): TrackedInstance[] {
    return [...this.instances.values()].filter(
      (i) => i.record.version === version && i.phase === 'serving' && !exclude.includes(i.record.id),
    );
  }

  get key(): string {
    return routeName(this.deps.app.name, this.deps.env);
  }

  get appName(): string {
    return this.deps.app.name;
  }

  get envName(): string {
    return this.deps.env;
  }

  /** How an instance's process last ended, if it did. */
  lastExitOf(instanceId: string): InstanceExit | null {
    return this.instances.get(instanceId)?.record.lastExit ?? null;
  }

  /** The release an instance of this app runs; undefined for an instance it does not know. */
  versionOf(instanceId: string): string | undefined {
    return this.instances.get(instanceId)?.record.version;
  }

  owns(instanceId: string): boolean {
    return this.instances.has(instanceId);
  }

  /** Takes back instances that survived a daemon restart; records whose process is gone are dropped. */
  async adopt(records: readonly InstanceRecord[], current: string | null): Promise<void> {
    for (const record of records) {
      const spec = this.specFor(record.id, record.version, record.port);
      const alive =
        record.pid !== null &&
        record.pidStart !== null &&
        this.deps.supervisor.adopt(spec, record.pid, record.pidStart, record.restarts);
      if (!alive) {
        this.deps.logger.warn({ instance: record.id }, 'instance process is gone; forgetting it');
        await this.deps.records.deleteInstance(record.id);
        continue;
      }
      // How it was run, as the process says: what a changed ferry.yaml is compared with.
      this.track(record, spec, false, readEnviron(record.pid)?.get(RUN_DIGEST_VAR) ?? null);
    }
    if (current) this.weights = { [current]: 100 };
    await this.pushRoute();
  }

  /**
   * Makes `count` instances of the release run; running ones are kept. The instances named in
   * `exclude` (a restart's old ones) do not count.
   */
  async ensureInstances(
    version: string,
    count: number,
    opts: { quickHealth?: boolean; exclude?: readonly string[] } = {},
  ): Promise<void> {
    const have = this.serving(version, opts.exclude);
    for (let n = have.length; n < count; n++) await this.startInstance(version, opts);
    await this.pushRoute();
  }

  private async startInstance(version: string, opts: { quickHealth?: boolean }): Promise<void> {
    const id = `${this.deps.app.name}-${version}-${randomBytes(3).toString('hex')}`;
    const port = await allocatePort('127.0.0.1');
    const now = this.deps.now();
    // Persisted before the spawn: a crash in between leaves a record that recovery can reconcile.
    const record: InstanceRecord = {
      id,
      app: this.deps.app.name,
      env: this.deps.env,
      version,
      port,
      pid: null,
      pidStart: null,
      state: 'starting',
      restarts: 0,
      createdAt: now,
      updatedAt: now,
    };
    await this.deps.records.putInstance(record);
    const spec = this.specFor(id, version, port);
    try {
      const { pid, pidStart } = await this.deps.supervisor.start(spec);
      const started: InstanceRecord = {
        ...record,
        pid,
        pidStart,
        state: 'running',
        updatedAt: this.deps.now(),
      };
      await this.deps.records.putInstance(started);
      this.track(started, spec, opts.quickHealth, runDigest(spec));
      this.publishInstance(started, 'started', null);
    } catch (error) {
      await this.deps.records.deleteInstance(id);
      throw error;
    }
  }

  private track(
    record: InstanceRecord,
    spec: InstanceSpec,
    quickHealth = false,
    digest: string | null = null,
  ): void {
    const tracked: TrackedInstance = {
      record,
      spec,
      runDigest: digest,
      monitor: null,
      health: 'starting',
      everHealthy: false,
      lastFailure: null,
      phase: 'serving',
    };
    const healthSpec = toHealthSpec(this.deps.app.health, quickHealth);
    tracked.monitor = new HealthMonitor({
      spec: healthSpec,
      target: {
        host: '127.0.0.1',
        port: record.port,
        cwd: spec.cwd,
        env: this.processEnvironment(record.version, spec.envVars),
        account: this.deps.account ?? null,
        secrets: this.secrets,
      },
      startedAt: this.deps.now(),
      onChange: (status, probe) => {
        tracked.health = status;
        if (status === 'healthy') tracked.everHealthy = true;
        if (!probe.ok) tracked.lastFailure = probe;
        this.deps.logger.info({ instance: record.id, health: status, probe: probe.detail }, 'health changed');
        this.deps.events?.publish({
          kind: 'health',
          app: this.deps.app.name,
          env: this.deps.env,
          instance: record.id,
          version: record.version,
          health: status,
          detail: probe.detail,
        });
        void this.pushRoute();
      },
      onResult: (probe) => {
        if (!probe.ok) tracked.lastFailure = probe;
      },
    });
    tracked.monitor.start();
    this.instances.set(record.id, tracked);
  }

  /** Percent of traffic per release (releases not named get 0). */
  async setTraffic(weights: Readonly<Record<string, number>>): Promise<void> {
    this.weights = { ...weights };
    await this.pushRoute();
  }

  /**
   * Takes the release out of the router, waits for its requests to finish, stops its processes. With
   * `drain: false` (a forced end) it stops them at once, even when the router cannot be told.
   */
  async retire(version: string, opts: { drain?: boolean } = {}): Promise<void> {
    const leaving = [...this.instances.values()].filter((i) => i.record.version === version);
    await this.retireSome(leaving, `release ${version}`, opts);
  }

  /** Drains and stops these instances of the release (a restart's old ones); ids gone already are skipped. */
  retireInstances(version: string, ids: readonly string[]): Promise<void> {
    const leaving = [...this.instances.values()].filter(
      (i) => i.record.version === version && ids.includes(i.record.id),
    );
    return this.retireSome(leaving, `replaced instance(s) of ${version}`);
  }

  /**
   * Keeps at most `count` serving instances of the release besides those in `exclude`: the others
   * drain and stop, unhealthy ones first, then the newest (a restart that ends keeps its finished batches).
   */
  trimInstances(version: string, exclude: readonly string[], count: number): Promise<void> {
    const rank = (i: TrackedInstance) => (i.health === 'healthy' ? 1 : 0);
    const kept = this.serving(version, exclude).sort(
      (a, b) => rank(b) - rank(a) || a.record.createdAt - b.record.createdAt,
    );
    return this.retireSome(kept.slice(count), `stopped instance(s) of ${version} (restart ended)`);
  }

  /** Every instance: `ferry apply --prune` stops an app that left the configuration. */
  retireAll(): Promise<void> {
    return this.retireSome([...this.instances.values()], `${this.key} left the configuration`);
  }

  private async retireSome(
    leaving: TrackedInstance[],
    what: string,
    opts: { drain?: boolean } = {},
  ): Promise<void> {
    if (leaving.length === 0) return;
    for (const instance of leaving) instance.phase = 'retiring';
    if (opts.drain === false) {
      // pushRoute logs its own failure; the router being gone is often why the operator forced the end.
      await this.pushRoute().catch(() => undefined);
      await Promise.all(leaving.map((instance) => this.stopInstance(instance, `${what} stopped at once`)));
      await this.pushRoute().catch(() => undefined);
      return;
    }
    await this.pushRoute();
    const drained = await this.deps.router.waitDrained(
      this.key,
      leaving.map((i) => i.record.id),
      this.deps.app.stopGraceMs,
    );
    if (!drained)
      this.deps.logger.warn({ what }, 'requests still in flight after the grace period; stopping anyway');
    await Promise.all(leaving.map((instance) => this.stopInstance(instance, `${what} retired`)));
    await this.pushRoute();
  }

  private async stopInstance(instance: TrackedInstance, reason: string): Promise<void> {
    instance.monitor?.stop();
    await this.deps.supervisor.stop(instance.record.id, { graceMs: this.deps.app.stopGraceMs, reason });
    this.instances.delete(instance.record.id);
    await this.deps.records.deleteInstance(instance.record.id);
  }

  /** The release's instances as the engine needs to see them. */
  async observe(
    version: string,
    desired: number,
    exclude: readonly string[] = [],
  ): Promise<ReleaseObservation> {
    const mine = this.serving(version, exclude);
    const failing = mine.find(isFailed) ?? mine.find((i) => i.lastFailure !== null && i.health !== 'healthy');
    const observation: ReleaseObservation = {
      version,
      desired,
      running: mine.filter(isRunning).length,
      healthy: mine.filter((i) => i.health === 'healthy').length,
      failed: mine.filter(isFailed).length,
    };
    if (!failing) return observation;
    const logTail = (await tailLog(failing.spec.logFile, LOG_TAIL_LINES).catch(() => [])).map((line) =>
      redactText(line, this.secrets),
    );
    return {
      ...observation,
      evidence: {
        instanceId: failing.record.id,
        ...(failing.lastFailure ? { health: failing.lastFailure.detail } : {}),
        logTail,
      },
    };
  }

  /** Updates an instance record from the supervisor's events (restarts, crash loops, exits). */
  onSupervisorEvent(event: SupervisorEvent): void {
    const instance = this.instances.get(event.id);
    if (!instance) return;
    if (event.type === 'stopped') this.publishInstance(instance.record, 'stopped', event.reason);
    if (event.type === 'exited') {
      const lastExit: InstanceExit = { code: event.code, signal: event.signal, at: this.deps.now() };
      instance.record = { ...instance.record, lastExit };
    }
    const state = recordStateOf(event);
    if (!state) return;
    const pid =
      event.type === 'started' ? { pid: event.pid, pidStart: event.pidStart, restarts: event.restarts } : {};
    instance.record = { ...instance.record, ...pid, state, updatedAt: this.deps.now() };
    const change = changeOf(event);
    if (change) this.publishInstance(instance.record, change.state, change.detail);
    this.deps.records
      .putInstance(instance.record)
      .catch((error: unknown) => this.deps.logger.error({ err: error }, 'could not persist instance'));
  }

  private publishInstance(record: InstanceRecord, state: InstanceChange, detail: string | null): void {
    this.deps.events?.publish({
      kind: 'instance',
      app: this.deps.app.name,
      env: this.deps.env,
      instance: record.id,
      version: record.version,
      state,
      pid: record.pid,
      restarts: record.restarts,
      detail,
    });
  }

  /** What `ferry status` shows of this app in this environment (with each process's usage, as `pm2 ls`). */
  describe(): InstanceDescription[] {
    const now = this.deps.now();
    return [...this.instances.values()].map((i) =>
      describeInstance(i, this.deps.supervisor.usage(i.record.id), now),
    );
  }

  logFiles(): string[] {
    return [...this.instances.values()].map((i) => i.spec.logFile);
  }

  /**
   * The log file of an instance of this app, running or stopped (its file stays). The id may come
   * from outside (a follow's cursor): null unless it is a plain file name.
   */
  logFileOf(instanceId: string): string | null {
    const running = this.instances.get(instanceId);
    if (running !== undefined) return running.spec.logFile;
    if (instanceId === '' || path.basename(instanceId) !== instanceId || instanceId.includes('\0'))
      return null;
    return instanceLogFile(this.deps.dir, instanceId);
  }

  /** Daemon shutdown: stop checking health; never stop a process (they outlive the daemon). */
  close(): void {
    this.closed = true;
    for (const instance of this.instances.values()) instance.monitor?.stop();
  }

  /** Pushes the route again: a new router keeper must serve exactly what this host says. */
  republishRoute(): Promise<void> {
    return this.pushRoute();
  }

  /** Pushes the route to the router; pushes are serialized so that the last state wins. */
  private pushRoute(): Promise<void> {
    const push = this.routePush.then(async () => {
      if (this.closed) return;
      await this.deps.router.putRoute(
        appRoute({
          name: this.key,
          app: this.deps.app,
          settings: this.deps.settings,
          holdTimeoutMs: this.deps.holdTimeoutMs,
          instances: this.instances.values(),
          weights: this.weights,
        }),
      );
    });
    this.routePush = push.catch((error: unknown) =>
      this.deps.logger.error({ err: error }, 'could not update the router'),
    );
    return push;
  }

  private specFor(id: string, version: string, port: number): InstanceSpec {
    const { app, env, settings, dir, account } = this.deps;
    return instanceSpec({ app, env, settings, dir, account: account ?? null }, { id, version, port });
  }

  /**
   * Runs one of the app's hooks for a release, as its instances run: in the release directory (the
   * releases dir when it is gone), as the app's account, in a clean environment with the app's
   * variables and FERRY_*; the output it quotes on failure hides the app's secrets.
   */
  async runHook(run: AppHookRun): Promise<void> {
    if (run.lines.length === 0) return;
    const releaseDir = path.join(this.releasesDir, run.version);
    const { app, env } = this.deps;
    await runHook({
      hook: run.hook,
      lines: run.lines,
      cwd: existsSync(releaseDir) ? releaseDir : this.releasesDir,
      env: {
        ...this.processEnvironment(run.version, this.deps.settings.env),
        ...hookVariables({ app: app.name, env, version: run.version, releaseDir }),
      },
      ...(run.vars ? { vars: run.vars } : {}),
      ...(run.stdin !== undefined ? { stdin: run.stdin } : {}),
      account: this.deps.account ?? null,
      secrets: this.secrets,
      timeoutMs: app.hooks.timeoutMs,
    });
  }

  /** A hook's or command check's environment: the clean base, the app's variables, FERRY_*. */
  private processEnvironment(
    version: string,
    vars: Readonly<Record<string, string>>,
  ): Record<string, string> {
    const { app, env, account } = this.deps;
    return processEnvironment({ app: app.name, env, version, account: account ?? null }, vars);
  }

  assertOpen(): void {
    if (this.closed) throw new FerryError('FERRY_E_ILLEGAL_STATE', `app ${this.key} is closed`);
  }
}
