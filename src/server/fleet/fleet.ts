import type { AppConfig, ConfigSource } from '../../config/types.js';
import { FerryError } from '../../errors/ferry-error.js';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import { rollbackTarget } from '../../runtime/rollback-target.js';
import {
  ACTIVE_STATUSES,
  createRollout,
  planRollout,
  renderPlan,
  type RolloutState,
} from '../../rollout/index.js';
import type { ExchangeHostLink } from '../../runtime/desired/exchange-link.js';
import type { KvStore } from '../../store/kv/kv.js';
import type { Store } from '../../store/store.js';
import type { HostExchange } from '../agent-api/host-exchange.js';
import type { ReceivedReport } from '../agent-api/host-reports.js';
import type { FleetRollout, LogLine, RolloutPlanResponse } from '../../api/types.js';
import { redactUrl } from '../../lib/redact.js';
import { KvReleaseVerdicts } from '../rollouts/kv-verdicts.js';
import type { DecisionSink, ReleaseVerdicts } from '../rollouts/ports.js';
import { rolloutOf } from '../rollouts/rollout-view.js';
import { rolloutKeyOf } from '../rollouts/rollout-record.js';
import { RolloutRuns } from '../rollouts/rollout-runs.js';
import type { Trust } from '../trust/trust.js';
import type { FleetRestartView } from '../../api/wire/fleet-restart.js';
import { FleetRestart } from './fleet-restart.js';
import { EnrolledHosts } from './enrolled-hosts.js';
import { commandRollout, type FleetCommand } from './fleet-commands.js';
import { appsOnHosts, removeFromHosts } from './fleet-prune.js';
import { HostDeployments } from './host-deployments.js';
import { ReportBatches } from './report-batches.js';
import type { ArtifactResolver } from '../../releases/artifact-of.js';
import { RestartSlots } from './restart-slots.js';
import { matchesLabels } from './host-selection.js';
import { targetReportOf } from './target-report.js';
import { followHostLogs, tailHostLogs } from './host-logs.js';
import type { LogFollow } from './log-follow.js';

export interface FleetDeps {
  readonly config: ConfigSource;
  readonly kv: KvStore;
  readonly trust: Pick<Trust, 'listHosts'>;
  readonly exchange: HostExchange;
  readonly link: ExchangeHostLink;
  /** The release ledger: releases a rollout judged are marked good or bad there too. */
  readonly store: Pick<Store, 'getRelease' | 'upsertRelease' | 'markRelease' | 'listReleases'>;
  readonly decisions: DecisionSink;
  readonly clock: Clock;
  readonly logger: Logger;
  /** How often each rollout ticks (deadlines, soak, unseen hosts). */
  readonly tickMs?: number;
  /** How often a host's own deployment (its canary) observes the host. */
  readonly hostTickMs?: number;
  /** Reports of a rollout's hosts are stepped together, at most this often. */
  readonly reportBatchMs?: number;
  /** A release's own artifact (the release catalog's); absent: the app's artifact.url. */
  readonly artifactOf?: ArtifactResolver;
}

/**
 * The environments that run on enrolled hosts: one fleet rollout per app and environment (the
 * engine of src/rollout, driven by src/server/rollouts), its targets the hosts the environment
 * selects by label. Hosts' reports become the rollout's target reports; its assignments move each
 * host with its own strategy (HostDeployments: the app's canary on the host, or blue-green).
 */
export class Fleet {
  private readonly runs: RolloutRuns;
  private readonly hostDeployments: HostDeployments;
  private readonly verdicts: KvReleaseVerdicts;
  private unsubscribe: (() => void) | null = null;
  private readonly enrolled: EnrolledHosts;
  private readonly batches: ReportBatches;
  private readonly restarts: FleetRestart;

  constructor(private readonly deps: FleetDeps) {
    this.verdicts = new KvReleaseVerdicts(deps.kv);
    this.enrolled = new EnrolledHosts(deps.trust, deps.clock);
    this.batches = new ReportBatches(
      deps.clock,
      (key, reports) =>
        void this.runs
          .open(key)
          .report(reports)
          .catch((error: unknown) =>
            deps.logger.warn({ err: error, rollout: key.join('.') }, 'reports could not be stepped'),
          ),
      deps.reportBatchMs,
    );
    this.hostDeployments = new HostDeployments({
      link: deps.link,
      kv: deps.kv,
      config: deps.config,
      ledger: deps.store,
      clock: deps.clock,
      logger: deps.logger,
      ...(deps.artifactOf ? { artifactOf: deps.artifactOf } : {}),
      ...(deps.hostTickMs !== undefined ? { tickMs: deps.hostTickMs } : {}),
      lastSeen: (host) => deps.exchange.latestReport(host)?.receivedAt ?? null,
      rolloutPaused: (app, env) => this.runs.get([app, env])?.current?.status === 'paused',
    });
    this.restarts = new FleetRestart({
      link: deps.link,
      slots: new RestartSlots({ kv: deps.kv, clock: deps.clock, logger: deps.logger }),
      clock: deps.clock,
      logger: deps.logger,
      hostsOf: (env) => this.hostsOf(env),
      appConfig: (app) => this.appConfig(app),
    });
    this.runs = new RolloutRuns({
      kind: 'apps',
      kv: deps.kv,
      clock: deps.clock,
      logger: deps.logger,
      tickMs: deps.tickMs ?? 500,
      decisions: deps.decisions,
      verdicts: this.ledger(),
      seed: ([app, env]) => ({
        app: app!,
        env: env!,
        options: this.appConfig(app!)?.rollout.options ?? this.missingApp(app!),
      }),
      driver: ([app, env]) => ({
        assign: (target, version, direction) =>
          this.hostDeployments.assign(app!, env!, target, version, direction),
      }),
    });
  }

  /** Resumes every rollout in the store, then follows the hosts' reports. */
  async start(): Promise<void> {
    await this.runs.start();
    this.hostDeployments.start();
    this.unsubscribe = this.deps.exchange.onReport((received) => {
      this.onReport(received).catch((error: unknown) =>
        this.deps.logger.warn(
          { err: error, host: received.report.host },
          'a host report could not reach its rollouts',
        ),
      );
    });
  }

  /** True when the environment runs on enrolled hosts (it selects them by labels). */
  has(env: string): boolean {
    return this.deps.config.current.environmentHosts.has(env);
  }

  /** Rolls `version` out across the environment's hosts (queued behind a running rollout unless `force`). */
  async deploy(request: {
    readonly app: string;
    readonly env: string;
    readonly version: string;
    readonly force?: boolean;
    readonly actor: string;
  }): Promise<RolloutState> {
    const app = this.appConfig(request.app) ?? this.missingApp(request.app);
    await this.recordRelease(app, request.env, request.version);
    const run = this.runs.open([request.app, request.env]);
    return run.deploy({
      version: request.version,
      ...(request.force ? { force: true } : {}),
      actor: request.actor,
      configure: () => ({ options: app.rollout.options, endpoints: app.rollout.endpoints }),
    });
  }

  /**
   * `ferry rollback` across the environment's hosts: rolls out the release to go back to, batch by
   * batch with the rollout's gates, as any release. It is the named one (even a bad one: the user
   * named it), else the newest good release other than last known good, as on one host
   * (rollbackTarget). Refused while a rollout runs: `ferry abort` returns the hosts to last
   * known good. Not refused by locks: a rollback is the way out of trouble.
   */
  async rollback(request: {
    readonly app: string;
    readonly env: string;
    readonly to?: string;
    readonly actor: string;
  }): Promise<RolloutState> {
    const { app, env } = request;
    const run = await this.runs.find([app, env]);
    const state = (await run?.read())?.state ?? null;
    if (state !== null && ACTIVE_STATUSES.has(state.status))
      throw new FerryError(
        'FERRY_E_DEPLOYMENT_IN_PROGRESS',
        `the rollout of ${state.rolling ?? '?'} across the hosts of ${env} is ${state.status}; end it with: ferry abort ${app} --env ${env} (its hosts return to last known good ${state.lkg ?? '(none)'})`,
        { app, env, status: state.status },
      );
    const releases = await this.deps.store.listReleases(app, env);
    const version = rollbackTarget(releases, state?.lkg ?? null, request.to, { app, env });
    // A named release goes even when it is last known bad: the user chose it.
    return this.deploy({
      app,
      env,
      version,
      actor: request.actor,
      ...(request.to !== undefined ? { force: true } : {}),
    });
  }

  /**
   * What deploying `version` would do now (`ferry deploy --dry-run`): the rollout's plan over the
   * hosts it has, with the configuration's options. Changes nothing.
   */
  async plan(request: {
    readonly app: string;
    readonly env: string;
    readonly version: string;
    readonly force?: boolean;
  }): Promise<RolloutPlanResponse['plan']> {
    const app = this.appConfig(request.app) ?? this.missingApp(request.app);
    const now = this.deps.clock.now();
    const run = await this.runs.find([request.app, request.env]);
    const stored = (await run?.read())?.state;
    const state =
      stored ?? createRollout({ app: request.app, env: request.env, options: app.rollout.options }, now);
    const plan = planRollout(
      { ...state, options: app.rollout.options },
      request.version,
      now,
      request.force === true,
    );
    return {
      app: plan.app,
      env: plan.env,
      version: plan.version,
      from: plan.from,
      targets: plan.targets,
      batchSize: plan.batchSize,
      budget: plan.budget,
      successThreshold: plan.successThreshold,
      failureThreshold: plan.failureThreshold,
      text: renderPlan(plan),
    };
  }

  /**
   * `ferry restart` across the environment's hosts, at most `rollout.restart_at_once` at a time
   * (the caller checks the locks first). Answers at once with the restart's view.
   */
  restart(app: string, env: string, actor: string): Promise<FleetRestartView> {
    return this.restarts.start(app, env, actor);
  }

  /** The app's last restart across the environment's hosts (null: none since the server started). */
  restartView(app: string, env: string): FleetRestartView | null {
    return this.restarts.view(app, env);
  }

  /** Every app's last restart in the environments on enrolled hosts (those the filter names). */
  restartViews(filter: { readonly app?: string; readonly env?: string }): FleetRestartView[] {
    const found: FleetRestartView[] = [];
    for (const env of this.deps.config.current.environmentHosts.keys()) {
      if (filter.env !== undefined && filter.env !== env) continue;
      for (const app of Object.values(this.deps.config.current.apps)) {
        if (filter.app !== undefined && filter.app !== app.name) continue;
        const view = this.restarts.view(app.name, env);
        if (view !== null) found.push(view);
      }
    }
    return found;
  }

  /** The last lines of the app's instances on every host of the environment (tailHostLogs). */
  logs(app: string, env: string, lines: number): Promise<LogLine[]> {
    const selector = this.deps.config.current.environmentHosts.get(env);
    if (selector === undefined) return Promise.resolve([]);
    return tailHostLogs(this.deps, { app, env, selector, lines });
  }

  /** `ferry logs -f` of the app on every host of the environment (followHostLogs), until the follow's signal aborts. */
  followLogs(app: string, env: string, lines: number, follow: LogFollow): Promise<void> {
    const selector = this.deps.config.current.environmentHosts.get(env);
    if (selector === undefined) return Promise.resolve();
    return followHostLogs(this.deps, { app, env, selector, lines }, follow);
  }

  /**
   * An operator's command to the environment's rollout. `pause` holds it and every host
   * deployment under way (each in its canary steps is paused now, the others once they reach
   * them); `resume` lets both go on; `abort` ends the rollout (the hosts return to last known good,
   * their own deployments ended first); `promote` skips the remaining canary steps of every host
   * deployment under way (the rollout itself has no steps to skip). `resume` and `promote` also
   * free a host canary its analysis paused (too few requests to judge), rollout paused or not.
   * With `host` (its id or name), `pause`, `resume` and `promote` steer that host's canary alone.
   */
  async command(
    app: string,
    env: string,
    command: FleetCommand,
    actor: string,
    host?: string,
  ): Promise<RolloutState> {
    const run = await this.runs.find([app, env]);
    if (run === null)
      throw new FerryError(
        'FERRY_E_ROLLOUT_UNKNOWN',
        `${app} has no rollout in ${env}: deploy a release first`,
        {
          where: `${app}/${env}`,
        },
      );
    return commandRollout(run, this.hostDeployments, this.deps.trust, { app, env, command, actor, host });
  }

  /** The apps the enrolled hosts run (their desired states name), in the file or not. */
  apps(): Promise<Array<{ app: string; env: string }>> {
    return appsOnHosts(this.deps);
  }

  /**
   * Takes an app that left the file off every enrolled host that runs it (`ferry apply --prune`);
   * the hosts' names. Its rollout's record stays, with its verdicts (history, last known good).
   */
  remove(app: string, env: string): Promise<string[]> {
    return removeFromHosts(this.deps, app, env);
  }

  /** The environment's rollout as the store has it, with its verdicts (null before its first deploy). */
  async rollout(app: string, env: string): Promise<FleetRollout | null> {
    const run = await this.runs.find([app, env]);
    const record = await run?.read();
    if (run === null || record === undefined || record === null) return null;
    const verdicts = await this.verdicts.list(run.storeKey);
    return rolloutOf({ app, env }, record, verdicts, this.deps.clock.now());
  }

  /** Every app's rollout in the environments on enrolled hosts (those the filter names), in config order. */
  async rollouts(filter: { readonly app?: string; readonly env?: string }): Promise<FleetRollout[]> {
    const { config } = this.deps;
    const found: FleetRollout[] = [];
    for (const env of config.current.environmentHosts.keys()) {
      if (filter.env !== undefined && filter.env !== env) continue;
      for (const app of Object.values(config.current.apps)) {
        if (filter.app !== undefined && filter.app !== app.name) continue;
        if (!Object.hasOwn(app.environments, env)) continue;
        const rollout = await this.rollout(app.name, env);
        if (rollout !== null) found.push(rollout);
      }
    }
    return found;
  }

  async close(): Promise<void> {
    this.unsubscribe?.();
    await this.restarts.close();
    this.batches.close();
    await this.runs.close();
    this.hostDeployments.close();
  }

  /** A host's report, to every rollout of an environment that selects the host. */
  private async onReport(received: ReceivedReport): Promise<void> {
    const { config } = this.deps;
    if (config.current.environmentHosts.size === 0) return;
    const host = await this.enrolled.byId(received.report.host);
    if (host === undefined || host.revoked) return;
    for (const [env, selector] of config.current.environmentHosts) {
      if (!matchesLabels(host.labels, selector)) continue;
      for (const app of Object.values(config.current.apps)) {
        if (!Object.hasOwn(app.environments, env)) continue;
        const desired = this.deps.link.app(host.id, app.name, env);
        const report = targetReportOf(received, app.name, env, desired);
        this.batches.add([app.name, env], this.hostDeployments.qualify(app.name, env, report));
      }
    }
  }

  /** The enrolled hosts (not revoked) the environment selects, by id. */
  private async hostsOf(env: string): Promise<string[]> {
    const selector = this.deps.config.current.environmentHosts.get(env);
    return selector === undefined ? [] : this.enrolled.selected(selector);
  }

  /**
   * The release enters the ledger when it is rolled out (its URL from the release catalog or the
   * app's artifact settings; each host verifies it on install), so verdicts and history have it.
   */
  private async recordRelease(app: AppConfig, env: string, version: string): Promise<void> {
    const known = await this.deps.store.getRelease(app.name, env, version);
    if (known) return;
    const own = (await this.deps.artifactOf?.(app.name, version)) ?? null;
    await this.deps.store.upsertRelease({
      app: app.name,
      env,
      version,
      artifactUrl: redactUrl(own?.url ?? app.artifact.url.replaceAll('{version}', version)),
      checksum: own !== null ? own.checksum : app.artifact.checksum,
      createdAt: this.deps.clock.now(),
    });
  }

  /** Verdicts of a rollout, kept with it and in the release ledger of its app and environment. */
  private ledger(): ReleaseVerdicts {
    return {
      mark: async (verdict) => {
        await this.verdicts.mark(verdict);
        const key = rolloutKeyOf(verdict.rollout);
        const [, app, env] = key ?? [];
        if (app === undefined || env === undefined) return;
        await this.deps.store.markRelease(
          app,
          env,
          verdict.version,
          verdict.verdict,
          verdict.reason,
          verdict.at,
        );
      },
    };
  }

  private appConfig(app: string): AppConfig | undefined {
    const { apps } = this.deps.config.current;
    return Object.hasOwn(apps, app) ? apps[app] : undefined;
  }

  private missingApp(app: string): never {
    throw new FerryError('FERRY_E_APP_UNKNOWN', `no app named "${app}" is configured`, { got: app });
  }
}
