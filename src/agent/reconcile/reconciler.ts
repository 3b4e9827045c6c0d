import {
  activateRelease,
  currentRelease,
  listReleases,
  pruneReleases,
  type InstalledRelease,
} from '../../artifacts/index.js';
import { appHookLines, HOOK_NAMES } from '../../config/hook-lines.js';
import type { FerryConfig } from '../../config/types.js';
import { FerryError, messageOf } from '../../errors/ferry-error.js';
import type { Clock, TimerHandle } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import { redactUrl } from '../../lib/redact.js';
import type { AppOnHost, HostDesiredState, HostTask } from '../../protocol/desired-state.js';
import {
  MAX_LOG_REPLY_BYTES,
  type AppReport,
  type ReleaseReport,
  type RouteTotals,
  type TaskReport,
} from '../../protocol/report.js';
import type { AppHost } from '../app-host.js';
import { installOnHost } from '../install.js';
import type { Installer } from '../installer/installer.js';
import {
  planApp,
  restartDone,
  type ActualApp,
  type ReconcileAction,
  type RestartGeneration,
} from './plan.js';
import { appReport } from './report.js';
import { answerBytes, answerTailLogs, type TailLogsTask } from './tail-logs.js';

export interface ReconcilerDeps {
  /**
   * The host of an app in an environment on this host, when it has one (configured or adopted); a
   * `ferry agent` makes it from the desired state's spec.
   */
  readonly hostFor: (desired: AppOnHost) => AppHost | undefined | Promise<AppHost | undefined>;
  /** Every app host on this host: reports say what runs, desired or not. */
  readonly hosts: () => Iterable<AppHost>;
  /** The spec digest an app's host runs with (reported: the acknowledgement of a configuration change). */
  readonly specDigest?: (host: AppHost) => string | undefined;
  /** The router's totals of an app's route (what the server's metrics expose). */
  readonly routeTotals?: (host: AppHost) => RouteTotals | undefined;
  /** The download cache settings in effect. */
  readonly artifactCache: () => FerryConfig['artifacts'];
  /** Runs an install (installRelease in this process when not given). */
  readonly install?: Installer;
  /** Told of every install: what was read, and whether the download cache was asked (metrics). */
  readonly onInstalled?: (host: AppHost, installed: InstalledRelease, cacheAsked: boolean) => void;
  /** Something a report shows changed (an install ended, a task ran, a pass finished). */
  readonly onChange: () => void;
  readonly logger: Logger;
  readonly clock: Clock;
  /** While an app is not where its desired state says, it is planned again this often (ms). */
  readonly resyncMs?: number;
  /**
   * An app that the desired state named and names no more: the server took it off this host
   * (`ferry apply --prune`). A `ferry agent` retires its instances and removes its route; without
   * it, nothing happens to what runs.
   */
  readonly onAppLeft?: (app: string, env: string) => Promise<void>;
}

const DEFAULT_RESYNC_MS = 250;

/**
 * The agent's reconciler: brings every app on this host to its desired state. Level-triggered: a
 * pass reads what runs, plans (plan.ts) and acts; while the plan was not empty the app is planned
 * again after `resyncMs` (an instance turning healthy lets the traffic move), and a new desired
 * state or a poke (an instance event) plans it at once. Each app and environment has its own loop,
 * so a long drain of one app never delays another, and passes never overlap for one app. Installs
 * and tasks keep their outcome (reported by id, never repeated for one desired release or task id);
 * everything else is read again from the host at every pass, so a pass that failed half-way is
 * simply planned again.
 */
export class Reconciler {
  private desired: HostDesiredState | null = null;
  private readonly loops = new Map<string, AppLoop>();
  private readonly installs = new Map<string, Map<string, ReleaseReport>>();
  private readonly tasks = new Map<string, TaskReport>();
  /** The report room taken by `tail-logs` answers being read now. */
  private logsReading = 0;
  /** Per app, per release: the restart seen last and the generation it replaces (kept in memory). */
  private readonly restarts = new Map<string, Map<string, RestartGeneration>>();
  private stopped = false;

  constructor(private readonly deps: ReconcilerDeps) {}

  /** The desired state last applied (its revision is what reports say they reflect). */
  get revision(): number {
    return this.desired?.revision ?? 0;
  }

  /** Takes a new desired state: every app in it is reconciled (again), in the background. */
  apply(desired: HostDesiredState): void {
    if (this.desired !== null && desired.revision < this.desired.revision) return;
    const before = this.desired;
    this.desired = desired;
    for (const app of desired.apps) this.kick(app);
    const named = new Set(desired.apps.map(keyOf));
    for (const app of before?.apps ?? []) if (!named.has(keyOf(app))) this.leave(app);
  }

  /** An app the desired state no longer names leaves, once its pass under way (if any) ended. */
  private leave(app: AppOnHost): void {
    const { onAppLeft } = this.deps;
    if (onAppLeft === undefined || this.stopped) return;
    const key = keyOf(app);
    const loop = this.loops.get(key);
    if (loop?.resync != null) this.deps.clock.clearTimeout(loop.resync);
    this.loops.delete(key);
    this.installs.delete(key);
    this.restarts.delete(key);
    void (loop?.running ?? Promise.resolve())
      .then(() => onAppLeft(app.app, app.env))
      .then(
        () => this.deps.logger.info({ app: key }, 'the app left this host'),
        (error: unknown) =>
          this.deps.logger.error({ app: key, err: messageOf(error) }, 'the app could not leave this host'),
      )
      .finally(() => this.deps.onChange());
  }

  /** Something changed on the host (an instance's health, a crash): plan every app again now. */
  poke(): void {
    for (const app of this.desired?.apps ?? []) this.kick(app);
  }

  /** True when every app's last pass found nothing to do and none runs or waits. */
  get converged(): boolean {
    return [...this.loops.values()].every(
      (loop) => loop.running === null && loop.resync === null && loop.idle,
    );
  }

  /** Stops planning (the agent stops) once the passes running end; what runs keeps running. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const loop of this.loops.values()) {
      if (loop.resync !== null) this.deps.clock.clearTimeout(loop.resync);
      loop.resync = null;
    }
    await Promise.all([...this.loops.values()].flatMap((loop) => loop.running ?? []));
  }

  /** What every app on this host runs (in its desired state or not), as its report says. */
  async report(): Promise<AppReport[]> {
    const desired = new Map((this.desired?.apps ?? []).map((app) => [keyOf(app), app]));
    // A log answer is dropped once its task left the desired state (it was read): only those weigh.
    const asked = new Set((this.desired?.apps ?? []).flatMap((app) => app.tasks.map((t) => t.id)));
    for (const [id, task] of this.tasks) if (task.logs !== undefined && !asked.has(id)) this.tasks.delete(id);
    return Promise.all(
      [...this.deps.hosts()].map(async (host) => {
        const app = desired.get(`${host.appName}.${host.envName}`);
        return appReport(host, {
          releases: app ? await this.releaseStates(host, app) : [],
          tasks: app ? app.tasks.flatMap((task) => this.tasks.get(task.id) ?? []) : [],
          spec: this.deps.specDigest?.(host),
          totals: this.deps.routeTotals?.(host),
        });
      }),
    );
  }

  /**
   * Each desired release's install: its outcome when this agent installed it (or tried), else
   * installed when it is on disk (installed before, by this agent or an earlier one), else not yet.
   */
  private async releaseStates(host: AppHost, app: AppOnHost): Promise<ReleaseReport[]> {
    const installs = this.installs.get(keyOf(app));
    const onDisk = new Set(await listReleases(host.releasesDir).catch(() => []));
    const running = { instances: host.instanceViews(), restarts: this.restarts.get(keyOf(app)) };
    return app.releases.map((release): ReleaseReport => {
      const { version } = release;
      const restarted = restartDone(release, running);
      const known = installs?.get(version) ?? {
        version,
        install: onDisk.has(version) ? 'installed' : 'installing',
      };
      return restarted === undefined ? known : { ...known, restarted };
    });
  }

  private kick(app: AppOnHost): void {
    if (this.stopped) return;
    const key = keyOf(app);
    let loop = this.loops.get(key);
    if (loop === undefined)
      this.loops.set(key, (loop = { running: null, again: false, resync: null, idle: false }));
    if (loop.resync !== null) {
      this.deps.clock.clearTimeout(loop.resync);
      loop.resync = null;
    }
    if (loop.running !== null) {
      loop.again = true;
      return;
    }
    const run = async (): Promise<boolean> => {
      let acted = false;
      do {
        loop.again = false;
        const current = this.desired?.apps.find((a) => keyOf(a) === key);
        acted = current !== undefined && (await this.pass(current));
      } while (loop.again && !this.stopped);
      return acted;
    };
    loop.running = run().then(
      (acted) => this.afterPass(loop, key, acted),
      (error: unknown) => {
        this.deps.logger.error({ app: key, err: messageOf(error) }, 'reconcile pass failed');
        this.afterPass(loop, key, true);
      },
    );
  }

  /** Not there yet: plan again after resyncMs (what the pass waits for may have happened by then). */
  private afterPass(loop: AppLoop, key: string, acted: boolean): void {
    loop.running = null;
    loop.idle = !acted;
    this.deps.onChange();
    if (!acted || this.stopped) return;
    loop.resync = this.deps.clock.setTimeout(() => {
      loop.resync = null;
      const app = this.desired?.apps.find((a) => keyOf(a) === key);
      if (app !== undefined) this.kick(app);
    }, this.deps.resyncMs ?? DEFAULT_RESYNC_MS);
  }

  /**
   * One pass: plan from what runs, run the actions in order; a failed action ends the pass (the
   * next one plans again). True when there was something to do, or something waits to be done.
   */
  private async pass(desired: AppOnHost): Promise<boolean> {
    const host = await this.deps.hostFor(desired);
    const log = this.deps.logger.child({ app: desired.app, env: desired.env });
    if (host === undefined) {
      // Planned again when the host gets it (the configuration is applied, then the reconciler poked).
      log.warn({}, 'no such app on this host; its desired state waits for its configuration');
      return false;
    }
    this.forgetLeftReleases(desired);
    this.noteRestarts(host, desired);
    const plan = planApp(desired, await this.actual(host, desired));
    for (const action of plan.actions) {
      try {
        await this.run(host, desired, action);
      } catch (error) {
        log.error({ action: action.type, err: messageOf(error) }, 'reconcile action failed');
        return true;
      }
    }
    return plan.actions.length > 0 || plan.held.length > 0;
  }

  private async actual(host: AppHost, desired: AppOnHost): Promise<ActualApp> {
    const installs = this.installs.get(keyOf(desired));
    const installed = new Set(await listReleases(host.releasesDir).catch(() => []));
    const installPending = new Set(
      [...(installs?.values() ?? [])].filter((r) => r.install !== 'installed').map((r) => r.version),
    );
    const taskIds = new Set(desired.tasks.map((t) => t.id).filter((id) => this.tasks.has(id)));
    return {
      installed,
      installPending,
      instances: host.instanceViews(),
      weights: host.trafficWeights(),
      current: await currentRelease(host.releasesDir).catch(() => null),
      tasksDone: taskIds,
      restarts: this.restarts.get(keyOf(desired)) ?? new Map(),
    };
  }

  private async run(host: AppHost, desired: AppOnHost, action: ReconcileAction): Promise<void> {
    switch (action.type) {
      case 'install':
        return this.install(host, desired, action.release.version, action.release.artifact);
      case 'start': {
        const release = desired.releases.find((r) => r.version === action.version)!;
        return host.ensureInstances(action.version, action.restart?.want ?? release.instances, {
          exclude: action.restart?.exclude ?? release.retire,
          quickHealth: release.quickHealth === true,
        });
      }
      case 'set-traffic':
        return host.setTraffic(Object.fromEntries(action.weights));
      case 'retire-instances':
        return host.retireInstances(action.version, action.ids);
      case 'trim':
        return host.trimInstances(action.version, action.exclude, action.keep);
      case 'retire-release':
        return host.retire(action.version, { drain: action.drain });
      case 'activate':
        return activateRelease(host.releasesDir, action.version);
      case 'run-task':
        return this.runTask(host, action.task);
    }
  }

  private async install(
    host: AppHost,
    desired: AppOnHost,
    version: string,
    override: AppOnHost['releases'][number]['artifact'],
  ): Promise<void> {
    const key = keyOf(desired);
    const installs = this.installs.get(key) ?? new Map<string, ReleaseReport>();
    this.installs.set(key, installs);
    installs.set(version, { version, install: 'installing' });
    this.deps.onChange();
    try {
      const { installed, url, cacheAsked } = await installOnHost(
        host,
        version,
        override,
        this.deps.artifactCache(),
        this.deps.install,
      );
      this.deps.onInstalled?.(host, installed, cacheAsked);
      const source = { url: redactUrl(url), checksum: installed.checksum };
      installs.set(version, { version, install: 'installed', source });
    } catch (error) {
      installs.set(version, { version, install: 'failed', failure: failureOf(error) });
    }
    this.deps.onChange();
  }

  private async runTask(host: AppHost, task: HostTask): Promise<void> {
    this.tasks.set(task.id, { id: task.id, state: 'running' });
    this.deps.onChange();
    try {
      if (task.type === 'run-hook') {
        await host.runHook({
          hook: task.hook,
          lines: hookLines(host, task.hook),
          version: task.version,
          vars: task.vars,
          ...(task.stdin !== undefined ? { stdin: task.stdin } : {}),
        });
      } else if (task.type === 'prune') {
        await pruneReleases(host.releasesDir, { keep: task.keep, protect: task.protect });
      } else {
        this.tasks.set(task.id, { id: task.id, state: 'passed', logs: await this.tailLogs(host, task) });
        this.deps.onChange();
        return;
      }
      this.tasks.set(task.id, { id: task.id, state: 'passed' });
    } catch (error) {
      this.tasks.set(task.id, { id: task.id, state: 'failed', failure: failureOf(error) });
    }
    this.deps.onChange();
  }

  /**
   * A `tail-logs` answer within what the report has room for: MAX_LOG_REPLY_BYTES less the answers
   * it carries already (tasks still asked) and those being read now (another app's follow).
   */
  private async tailLogs(host: AppHost, task: TailLogsTask): Promise<NonNullable<TaskReport['logs']>> {
    const asked = new Set((this.desired?.apps ?? []).flatMap((app) => app.tasks.map((t) => t.id)));
    let held = this.logsReading;
    for (const [id, report] of this.tasks)
      if (report.logs !== undefined && asked.has(id)) held += answerBytes(report.logs);
    const budget = Math.max(0, MAX_LOG_REPLY_BYTES - held);
    this.logsReading += budget;
    try {
      return await answerTailLogs(host, task, budget);
    } finally {
      this.logsReading -= budget;
    }
  }

  /**
   * A restart id seen for the first time fixes the generation it replaces: the release's instances
   * serving now. A release without one (or gone) forgets its restart.
   */
  private noteRestarts(host: AppHost, desired: AppOnHost): void {
    const key = keyOf(desired);
    const known = this.restarts.get(key) ?? new Map<string, RestartGeneration>();
    this.restarts.set(key, known);
    const views = host.instanceViews();
    for (const release of desired.releases) {
      if (release.restart === undefined) known.delete(release.version);
      else if (known.get(release.version)?.id !== release.restart) {
        const old = views.filter((i) => i.serving && i.version === release.version).map((i) => i.id);
        known.set(release.version, { id: release.restart, old: new Set(old) });
      }
    }
    for (const version of known.keys())
      if (!desired.releases.some((r) => r.version === version)) known.delete(version);
  }

  /** A release that left the desired state takes its install outcome with it: it may come back. */
  private forgetLeftReleases(desired: AppOnHost): void {
    const installs = this.installs.get(keyOf(desired));
    if (installs === undefined) return;
    const wanted = new Set(desired.releases.map((r) => r.version));
    for (const [version, report] of installs)
      if (!wanted.has(version) && report.install !== 'installing') installs.delete(version);
  }
}

interface AppLoop {
  running: Promise<void> | null;
  /** A new desired state or a poke came while a pass ran: plan again when it ends. */
  again: boolean;
  /** The timer of the next pass while the app is not where it should be. */
  resync: TimerHandle | null;
  /** The last pass found nothing to do. */
  idle: boolean;
}

function keyOf(app: Pick<AppOnHost, 'app' | 'env'>): string {
  return `${app.app}.${app.env}`;
}

/** The lines of one of the app's hooks, by its name in ferry.yaml. */
function hookLines(host: AppHost, hook: string): readonly string[] {
  const lines = appHookLines(host.app, hook);
  if (lines !== undefined) return lines;
  throw new FerryError('FERRY_E_USAGE', `hook ${hook}: expected ${HOOK_NAMES.join(', ')}`);
}

function failureOf(error: unknown): { code: string; message: string } {
  return {
    code: error instanceof FerryError ? error.code : 'FERRY_E_INTERNAL',
    message: messageOf(error),
  };
}
