import { randomBytes } from 'node:crypto';
import type { AppConfig, ConfigSource } from '../../config/types.js';
import { commandError } from '../../engine/commands.js';
import { createDeployment, describeProgress } from '../../engine/create.js';
import { FINAL_STATUSES, type DeploymentState } from '../../engine/types.js';
import type { Clock, TimerHandle } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import type { ArtifactResolver } from '../../releases/artifact-of.js';
import type { TargetReport } from '../../rollout/index.js';
import { DesiredEffects } from '../../runtime/desired/desired-effects.js';
import type { ExchangeHostLink } from '../../runtime/desired/exchange-link.js';
import { TrafficWindows } from '../../runtime/desired/traffic-windows.js';
import { DeploymentRun } from '../../runtime/run.js';
import { compileStrategyKind } from '../../runtime/strategy.js';
import type { KvStore } from '../../store/kv/kv.js';
import type { Store } from '../../store/store.js';
import type { RolloutDirection } from '../rollouts/ports.js';
import { hostDeploymentKey, hostDeploymentRecords, loadHostDeployment } from './host-deployment-records.js';
import { hostDriver } from './host-driver.js';
import { servedVersion } from './target-report.js';

export interface HostDeploymentsDeps {
  readonly link: ExchangeHostLink;
  readonly kv: KvStore;
  readonly config: ConfigSource;
  /** The release ledger: a host's install records the release there, as any deployment's does. */
  readonly ledger: Pick<Store, 'getRelease' | 'upsertRelease'>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly artifactOf?: ArtifactResolver;
  /** How often a host's own deployment observes its host (its canary analysis reads the reports). */
  readonly tickMs?: number;
  /** When the server last heard from the host (ms, the server's clock); null: never. */
  readonly lastSeen: (host: string) => number | null;
  /** Whether the rollout of the app in the environment is paused (its host deployments hold too). */
  readonly rolloutPaused: (app: string, env: string) => boolean;
}

/** What an operator can ask of the host deployments of a rollout. */
export type HostCommand = 'pause' | 'resume' | 'promote';

/** How often running host deployments are checked for hosts gone silent. */
const SWEEP_MS = 5_000;

const DEFAULT_TICK_MS = 250;
/** Who a host's own deployment names when the rollout ends it (the events, the log). */
const ROLLOUT_ACTOR = 'the fleet rollout';

/**
 * How a fleet rollout moves one of Ferry's hosts to a release: the host's own strategy applies.
 * With the app's canary, a host moving forward from a release it serves runs a deployment of its
 * own, the one-host engine (src/engine) driven over that host's desired state by the same runtime
 * and effects as `ferry up`'s: weight steps with their pauses, the analysis of the host's router
 * counters, revert on failure. Otherwise (blue-green, a host with nothing serving, a return to
 * last known good, a release already good in the environment) the host's desired state names the
 * release with all the traffic and the agent switches blue-green by itself (hostDriver). The
 * target's report then says how the host's own deployment goes: not healthy while it runs, failed
 * at once when it failed.
 */
export class HostDeployments {
  /** The running host deployments by key, each with the host it runs on. */
  private readonly runs = new Map<string, { readonly run: DeploymentRun; readonly host: string }>();
  private sweeper: TimerHandle | null = null;
  /** The last ended deployment per host (what failed there), until the next one starts. */
  private readonly ended = new Map<string, DeploymentState>();
  /** Per host: its assignments are applied in order, each after the one before has taken effect. */
  private readonly chains = new Map<string, Promise<void>>();
  private closed = false;

  constructor(private readonly deps: HostDeploymentsDeps) {}

  /**
   * From here on a host deployment whose host went unseen for the rollout's `unseen_after` is ended
   * at once (a forced abort: traffic back and the canary stopped in the host's desired state, which
   * the host applies when it returns). The rollout has let that host go: nothing else would end it.
   */
  start(): void {
    this.sweeper ??= this.deps.clock.setInterval(() => this.sweep(), SWEEP_MS);
  }

  /**
   * Makes `host` run `version` (null: the app leaves it). Resolves once the change is under way:
   * the host's own deployment persisted and started, or its desired state edited. A host
   * deployment the change supersedes is ended first (an abort: traffic back, the canary drained),
   * in the background, and the change follows once it has ended.
   */
  async assign(
    app: string,
    env: string,
    host: string,
    version: string | null,
    direction: RolloutDirection,
  ): Promise<void> {
    const key = hostDeploymentKey(app, env, host);
    const running = this.runs.get(key)?.run ?? (await this.resume(key, host));
    if (running !== undefined) {
      if (direction === 'forward' && running.current.to === version) return;
      this.then(key, async () => {
        await this.end(running);
        await this.apply(key, app, env, host, version, direction);
      });
      return;
    }
    await this.apply(key, app, env, host, version, direction);
  }

  /**
   * The target's report as the host's own deployment qualifies it: while it runs the host is not
   * done (its progress is the message); once it failed, or is going back after a failure, the
   * target has failed on that release.
   */
  qualify(app: string, env: string, report: TargetReport): TargetReport {
    const key = hostDeploymentKey(app, env, report.name);
    const state = this.runs.get(key)?.run.current ?? this.ended.get(key);
    if (state === undefined) return report;
    // Failed, or going back after a failure (an abort by the rollout is not the host's failure).
    const failure = state.revertReason === 'abort' ? null : state.failure;
    const ended = FINAL_STATUSES.has(state.status);
    if (failure !== null)
      return {
        ...report,
        // Ended, the host serves the release before it again: what it reports is so.
        healthy: ended && report.healthy,
        failedVersion: state.to,
        // The rollout says "the host's deployment of <to> failed: " before it.
        message: failure.message,
      };
    if (ended) return report;
    return { ...report, healthy: false, message: `canary of ${state.to}: ${describeProgress(state)}` };
  }

  /**
   * An operator's command to the running host deployments of an app in an environment (`ferry
   * pause`, `resume` and `promote` of its rollout), applied to each one it applies to (a pause to a
   * host in its canary steps, a promote to one in its steps or paused); the hosts it steered, in
   * order; `only`: that host's alone. While the rollout is paused, a host deployment that reaches
   * its canary steps later is paused there too (holdIfPaused), until `resume`.
   */
  async steer(
    app: string,
    env: string,
    command: HostCommand,
    actor: string,
    only?: string,
  ): Promise<string[]> {
    const steered: string[] = [];
    for (const { run, host } of this.runs.values()) {
      if (run.current.app !== app || run.current.env !== env) continue;
      if (only !== undefined && host !== only) continue;
      if (commandError(run.current, command) !== null) continue;
      await run.decide({ type: 'command', command, actor });
      steered.push(host);
    }
    return steered.sort();
  }

  /**
   * Stops every host deployment's run (they resume from the store when the rollout re-assigns
   * after the next start); a change waiting for one to end is dropped with it.
   */
  close(): void {
    this.closed = true;
    if (this.sweeper !== null) this.deps.clock.clearInterval(this.sweeper);
    this.sweeper = null;
    for (const { run } of this.runs.values()) run.stop();
    this.runs.clear();
    this.chains.clear();
  }

  private async apply(
    key: string,
    app: string,
    env: string,
    host: string,
    version: string | null,
    direction: RolloutDirection,
  ): Promise<void> {
    // What failed before is no longer news once the host is told its next release.
    this.ended.delete(key);
    const config = this.appConfig(app);
    const serving = this.serving(host, app, env);
    const canary =
      config?.strategy.kind === 'canary' &&
      direction === 'forward' &&
      version !== null &&
      serving !== null &&
      serving !== version &&
      // A release the environment already judged good (a rollback, a redeploy) is proven here: as
      // a rollback on one host, it moves without the canary's gates.
      (await this.deps.ledger.getRelease(app, env, version))?.status !== 'good';
    if (!canary || config === undefined || version === null || serving === null) {
      await this.steady(host, app, env, version);
      return;
    }
    const now = this.deps.clock.now();
    const state = createDeployment(
      {
        id: `h-${randomBytes(5).toString('hex')}`,
        app,
        env,
        kind: 'deploy',
        from: serving,
        to: version,
        strategy: compileStrategyKind(config, 'canary'),
        instances: config.environments[env]?.instances ?? 1,
        afterSwitchHook: config.hooks.afterSwitch.length > 0,
      },
      now,
    );
    await this.launch(key, host, state, 'begin');
  }

  /** The host deployment the store has for this host (after a restart), resumed when it had not ended. */
  private async resume(key: string, host: string): Promise<DeploymentRun | undefined> {
    const stored = await loadHostDeployment(this.deps.kv, key);
    if (stored === undefined || FINAL_STATUSES.has(stored.status)) return undefined;
    return this.runs.get(key)?.run ?? (await this.launch(key, host, stored, 'recover'));
  }

  private async launch(
    key: string,
    host: string,
    state: DeploymentState,
    first: 'begin' | 'recover',
  ): Promise<DeploymentRun> {
    const { deps } = this;
    const records = hostDeploymentRecords(deps.kv, key);
    const effects = new DesiredEffects({
      link: deps.link,
      hostOf: () => host,
      // The rollout judges the release across hosts: one host's verdict is not the ledger's.
      store: {
        getRelease: (app, env, version) => deps.ledger.getRelease(app, env, version),
        upsertRelease: (release) => deps.ledger.upsertRelease(release),
        markRelease: () => Promise.resolve(),
      },
      config: deps.config,
      windows: new TrafficWindows(() => deps.clock.now()),
      now: () => deps.clock.now(),
      ...(deps.artifactOf ? { artifactOf: deps.artifactOf } : {}),
    });
    const run = new DeploymentRun(state, {
      store: records,
      effects,
      logger: deps.logger.child({ host }),
      clock: deps.clock,
      tickMs: deps.tickMs ?? DEFAULT_TICK_MS,
      // Its progress reaches `ferry status` through its target's report (qualify), not the streams;
      // each new state is a chance to hold it at its canary steps while its app is held.
      events: { publish: () => this.holdIfPaused(key) },
    });
    this.runs.set(key, { run, host });
    // Not awaited by anyone but `end`: a stopped run never finishes, and nothing waits for it then.
    void run.whenFinished().then((final) => {
      if (this.runs.get(key)?.run === run) this.runs.delete(key);
      this.ended.set(key, final);
    });
    // The state is persisted before the run's first effect, as every deployment's.
    await records.saveDeployment(state);
    if (!this.closed) run.start(first);
    return run;
  }

  /**
   * Ends a host deployment the rollout no longer wants: an abort where one applies (traffic back to
   * the release before it, the canary drained), else it finishes by itself (retiring, reverting).
   */
  private async end(run: DeploymentRun): Promise<void> {
    if (commandError(run.current, 'abort') === null)
      await run.dispatch({ type: 'command', command: 'abort', actor: ROLLOUT_ACTOR });
    await run.whenFinished();
  }

  /**
   * A host deployment whose rollout is paused is paused as soon as it can be (it reached a canary
   * step): an operator's pause holds the whole rollout, hosts already moving included.
   */
  private holdIfPaused(key: string): void {
    const run = this.runs.get(key)?.run;
    if (run === undefined || !this.deps.rolloutPaused(run.current.app, run.current.env)) return;
    if (commandError(run.current, 'pause') !== null) return;
    void run.dispatch({ type: 'command', command: 'pause', actor: 'the paused rollout' });
  }

  /** The host's desired state names the release with all the traffic: it switches blue-green. */
  private steady(host: string, app: string, env: string, version: string | null): Promise<void> {
    return hostDriver(this.deps.link, app, env, () => this.appConfig(app), this.deps.artifactOf).assign(
      host,
      version,
    );
  }

  private sweep(): void {
    const now = this.deps.clock.now();
    for (const [key, { run, host }] of this.runs) {
      const seen = this.deps.lastSeen(host);
      const unseenAfterMs = this.appConfig(run.current.app)?.rollout.options.unseenAfterMs;
      if (seen === null || unseenAfterMs === undefined || now - seen <= unseenAfterMs) continue;
      this.deps.logger.warn(
        { host, deployment: run.current.id },
        'the host went unseen: its own deployment is ended at once',
      );
      const { from, app, env } = run.current;
      void run.dispatch({
        type: 'command',
        command: 'abort',
        force: true,
        actor: `${ROLLOUT_ACTOR} (host unseen for ${Math.round((now - seen) / 1000)}s)`,
      });
      // The forced end's effects wait for a host that does not answer: its desired state is set
      // back to the release before the canary at once, for when it returns.
      if (from !== null) this.then(key, () => this.steady(host, app, env, from));
    }
  }

  private then(key: string, work: () => Promise<void>): void {
    const next = (this.chains.get(key) ?? Promise.resolve())
      .then(work)
      .catch((error: unknown) =>
        this.deps.logger.warn({ err: error, key }, 'a host could not be moved to its release'),
      );
    this.chains.set(key, next);
  }

  /** The release with all of the app's traffic on the host now (null: none, or split). */
  private serving(host: string, app: string, env: string): string | null {
    const report = this.deps.link.lastReport(host, app, env);
    return report === undefined ? null : servedVersion(report);
  }

  private appConfig(app: string): AppConfig | undefined {
    const { apps } = this.deps.config.current;
    return Object.hasOwn(apps, app) ? apps[app] : undefined;
  }
}
