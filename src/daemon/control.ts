import type { ControlPlane, ExternalTargetsControl } from '../api/control-plane.js';
import type {
  CommandResponse,
  FleetRollout,
  AppStatus,
  CanaryLiveView,
  ConfigApplyBody,
  ConfigApplyResponse,
  ConfigPlanView,
  DeployBody,
  DeployResponse,
  Deployment,
  HistoryResponse,
  HostRevokeResponse,
  HostsResponse,
  JoinTokenCreateBody,
  JoinTokenCreateResponse,
  JoinTokenRevokeResponse,
  JoinTokensResponse,
  LockBody,
  LockResponse,
  LocksResponse,
  LogLine,
  LogsResponse,
  ReleaseAddBody,
  ReleaseAddResponse,
  ReleasesResponse,
  RestartResponse,
  RollbackResponse,
  RollbackBody,
  StatusResponse,
  UnlockBody,
  UnlockResponse,
} from '../api/types.js';
import { assertEnvironment, resolveAppEnv } from '../config/resolve.js';
import type { ConfigSource, FerryConfig } from '../config/types.js';
import type { DeploymentCommand, DeploymentState } from '../engine/types.js';
import { FerryError } from '../errors/ferry-error.js';
import type { EventFilter, EventPublisher } from '../events/publisher.js';
import type { Deployer } from '../runtime/deployer.js';
import { toDeployment } from '../runtime/deployment-view.js';
import type { HostReport } from '../protocol/report.js';
import type { Store } from '../store/store.js';
import type { LiveCounters } from '../runtime/desired/live-counters.js';
import type { TrustOperator } from '../server/trust/trust-operator.js';
import type { ConfigApplier } from './config-apply.js';
import { hostAppViews, type HostAppView } from './host-app-views.js';
import { routerStatusOf } from './router-watch.js';
import type { ControlLocks } from './control-locks.js';
import { assertDeployUnlocked } from '../runtime/deploy-locks.js';
import type { Fleet } from '../server/fleet/fleet.js';
import { lockedError } from '../server/locks/lock-errors.js';
import type { ReleasesControl } from '../releases/recorder.js';
import { addRelease, listReleases } from './control-releases.js';

/** The daemon as the API sees it. */
export class DaemonControl implements ControlPlane {
  constructor(
    private readonly deps: {
      /** The configuration in effect (`ferry apply` replaces it). */
      readonly config: ConfigSource;
      readonly store: Store;
      readonly deployer: Deployer;
      /** The server's own host's last report (null before its first): what runs there. */
      readonly hostReport: () => HostReport | null;
      /** The last lines of an app's instances on the server's own host, asked of its agent. */
      readonly hostLogs: (app: string, env: string, lines: number) => Promise<LogLine[]>;
      /** `ferry logs -f` of an app on the server's own host, through its agent; never rejects. */
      readonly followHostLogs: (
        app: string,
        env: string,
        lines: number,
        follow: { readonly signal: AbortSignal; readonly send: (line: LogLine) => void },
      ) => Promise<void>;
      readonly applier: ConfigApplier;
      /** The configuration a plan or apply request names: the text it sent, or the daemon's own file. */
      readonly readConfig: (body: ConfigApplyBody) => FerryConfig;
      readonly version: string;
      readonly startedAt: number;
      readonly events: EventPublisher;
      readonly metrics: { exposition(): Promise<{ contentType: string; text: string }> };
      /** Every host enrolled or heard from (`ferry hosts`). */
      readonly hostsView: () => Promise<HostsResponse>;
      /** Join tokens and host revocation (the operator's side of enrollment). */
      readonly trust: TrustOperator;
      /** A running canary step's window so far, per release (the one its analysis judges). */
      readonly liveCounters: (state: DeploymentState, versions: readonly string[]) => Promise<LiveCounters>;
      /** Locks of environments and apps, and the deploys queued behind them. */
      readonly locks: ControlLocks;
      /** Rollouts over targets outside Ferry. */
      readonly targets: ExternalTargetsControl;
      /** Environments on enrolled hosts: each app's rollout across them. */
      readonly fleet: Pick<
        Fleet,
        | 'has'
        | 'deploy'
        | 'rollback'
        | 'plan'
        | 'command'
        | 'rollout'
        | 'rollouts'
        | 'restart'
        | 'restartViews'
        | 'logs'
        | 'followLogs'
      >;
      /** The release intake and catalog, and recording a release without deploying it. */
      readonly releases: ReleasesControl;
    },
  ) {}

  get targets(): ExternalTargetsControl {
    return this.deps.targets;
  }

  lock(body: LockBody, actor: string): Promise<LockResponse> {
    return this.deps.locks.lock(body, actor);
  }

  unlock(body: UnlockBody, actor: string): Promise<UnlockResponse> {
    return this.deps.locks.unlock(body, actor);
  }

  locks(filter: { env?: string; app?: string }): Promise<LocksResponse> {
    if (filter.app !== undefined) this.resolve(filter.app, filter.env);
    return this.deps.locks.list(filter);
  }

  hosts(): Promise<HostsResponse> {
    return this.deps.hostsView();
  }

  revokeHost(host: string, actor: string): Promise<HostRevokeResponse> {
    return this.deps.trust.revokeHost(host, actor);
  }

  createJoinToken(body: JoinTokenCreateBody, actor: string): Promise<JoinTokenCreateResponse> {
    return this.deps.trust.createJoinToken(body, actor);
  }

  joinTokens(): Promise<JoinTokensResponse> {
    return this.deps.trust.joinTokens();
  }

  revokeJoinToken(id: string, actor: string): Promise<JoinTokenRevokeResponse> {
    return this.deps.trust.revokeJoinToken(id, actor);
  }

  metrics(): Promise<{ contentType: string; text: string }> {
    return this.deps.metrics.exposition();
  }

  get events(): EventPublisher {
    return this.deps.events;
  }

  checkEventFilter(filter: EventFilter): void {
    if (filter.app !== undefined) this.resolve(filter.app, filter.env);
    else if (filter.env !== undefined) assertEnvironment(this.deps.config.current, filter.env);
  }

  async status(filter: { app?: string; env?: string }): Promise<StatusResponse> {
    const config = this.deps.config.current;
    // What runs on this host, from its report as for any host; an app that left the configuration
    // but still runs is named too (not in config).
    const views = hostAppViews(config, this.deps.hostReport(), Date.now());
    const shown = (view: HostAppView) =>
      (filter.app === undefined || filter.app === view.app) &&
      (filter.env === undefined || filter.env === view.env);
    if (!views.some(shown)) {
      if (filter.app !== undefined) this.resolve(filter.app, filter.env);
      else if (filter.env !== undefined) assertEnvironment(config, filter.env);
    }
    const held = await this.deps.locks.list({});
    const apps: AppStatus[] = [];
    for (const view of views) {
      if (!shown(view)) continue;
      const { app: appName, env } = view;
      const [last] = await this.deps.store.listDeployments({ app: appName, env, limit: 1 });
      const deployment = last ? (this.deps.deployer.run(last.id)?.current ?? last) : null;
      apps.push({
        app: appName,
        env,
        current: (await this.deps.store.getCurrent(appName, env)) ?? null,
        listen: view.listen,
        instances: view.instances,
        deployment: deployment ? await this.withReport(deployment) : null,
        canary: deployment ? await canaryView(deployment, this.deps.liveCounters) : null,
        inConfig: view.inConfig,
        locks: held.locks.filter((l) => l.env === env && (l.app === null || l.app === appName)),
        // A queued deploy that could not start is news until a deployment begins after it.
        queued:
          held.queued.find(
            (q) =>
              q.app === appName &&
              q.env === env &&
              (q.failure === null || deployment === null || deployment.createdAt < q.failure.at),
          ) ?? null,
      });
    }
    return {
      daemon: {
        pid: process.pid,
        version: this.deps.version,
        uptimeMs: Date.now() - this.deps.startedAt,
        routerPid: this.deps.hostReport()?.router?.pid ?? null,
      },
      router: routerStatusOf(this.deps.hostReport()?.router, Date.now()),
      apps,
      rollouts: await this.deps.fleet.rollouts(filter),
      restarts: this.deps.fleet.restartViews(filter),
      waiting: (await this.deps.releases.waiting()).filter(
        (w) =>
          (filter.app === undefined || filter.app === w.app) &&
          (filter.env === undefined || filter.env === w.env),
      ),
    };
  }

  async deploy(body: DeployBody, actor: string): Promise<DeployResponse> {
    const { queue, dryRun, ...request } = body;
    const target = this.resolve(body.app, body.env);
    if (dryRun === true && !this.deps.fleet.has(target.env))
      throw new FerryError(
        'FERRY_E_USAGE',
        `dryRun: a plan is made for an environment on enrolled hosts; ${target.env} runs on this host (its deployments follow apps.${target.app}.strategy)`,
        { where: 'dryRun' },
      );
    if (dryRun === true)
      return {
        plan: await this.deps.fleet.plan({
          app: target.app,
          env: target.env,
          version: body.version,
          ...(body.force ? { force: true } : {}),
        }),
      };
    if (this.deps.fleet.has(target.env)) {
      if (queue === true || body.strategy !== undefined)
        throw new FerryError(
          'FERRY_E_USAGE',
          `${queue === true ? 'queue' : 'strategy'}: not for ${target.env}, which runs on enrolled hosts: its rollout moves them batch by batch (apps.${target.app}.rollout)`,
          { where: queue === true ? 'queue' : 'strategy' },
        );
      await assertDeployUnlocked(this.deps.locks.port, target.app, target.env, body.version);
      await this.deps.fleet.deploy({
        app: target.app,
        env: target.env,
        version: body.version,
        ...(body.force ? { force: true } : {}),
        actor,
      });
      return { rollout: await this.rollout(target.app, target.env) };
    }
    if (queue !== true)
      return { deployment: toDeployment(await this.deps.deployer.deploy({ ...request, actor })) };
    const outcome = await this.deps.deployer.deployOrQueue({ ...request, actor });
    return 'deployment' in outcome ? { deployment: toDeployment(outcome.deployment) } : outcome;
  }

  async restart(app: string, env: string | undefined, actor: string): Promise<RestartResponse> {
    const target = this.resolve(app, env);
    if (!this.deps.fleet.has(target.env))
      return {
        deployment: toDeployment(await this.deps.deployer.restart({ app, ...(env ? { env } : {}), actor })),
      };
    const lock = await this.deps.locks.port.holding(target.app, target.env);
    if (lock) throw lockedError(lock, `cannot restart ${target.app} in ${target.env}`);
    return { restart: await this.deps.fleet.restart(target.app, target.env, actor) };
  }

  planConfig(body: ConfigApplyBody): Promise<ConfigPlanView> {
    return this.deps.applier.plan(this.deps.readConfig(body), { prune: body.prune === true });
  }

  async applyConfig(body: ConfigApplyBody, actor: string): Promise<ConfigApplyResponse> {
    const applied = await this.deps.applier.apply(this.deps.readConfig(body), {
      prune: body.prune === true,
      actor,
      source: 'apply',
      ...(body.expect !== undefined ? { expect: body.expect } : {}),
    });
    return {
      plan: applied.plan,
      deployments: await Promise.all(applied.deployments.map((d) => this.withReport(d))),
    };
  }

  async rollback(body: RollbackBody, actor: string): Promise<RollbackResponse> {
    const target = this.resolve(body.app, body.env);
    if (!this.deps.fleet.has(target.env))
      return { deployment: toDeployment(await this.deps.deployer.rollback({ ...body, actor })) };
    await this.deps.fleet.rollback({
      app: target.app,
      env: target.env,
      ...(body.to !== undefined ? { to: body.to } : {}),
      actor,
    });
    return { rollout: await this.rollout(target.app, target.env) };
  }

  async command(
    app: string,
    env: string | undefined,
    command: DeploymentCommand,
    actor: string,
    opts: { force?: boolean; host?: string } = {},
  ): Promise<CommandResponse> {
    const target = this.resolve(app, env);
    const { host, ...own } = opts;
    if (!this.deps.fleet.has(target.env)) {
      if (host !== undefined)
        throw new FerryError(
          'FERRY_E_USAGE',
          `--host: ${target.env} runs on this host, not on enrolled hosts: ferry ${command} ${target.app} --env ${target.env} steers its deployment`,
          { where: 'host', got: host.slice(0, 80) },
        );
      return { deployment: toDeployment(await this.deps.deployer.command(app, env, command, actor, own)) };
    }
    await this.deps.fleet.command(target.app, target.env, command, actor, host);
    return { rollout: await this.rollout(target.app, target.env) };
  }

  async rollout(app: string, env: string | undefined): Promise<FleetRollout> {
    const target = this.resolve(app, env);
    const rollout = this.deps.fleet.has(target.env)
      ? await this.deps.fleet.rollout(target.app, target.env)
      : null;
    if (rollout === null)
      throw new FerryError(
        'FERRY_E_ROLLOUT_UNKNOWN',
        this.deps.fleet.has(target.env)
          ? `${target.app} has no rollout in ${target.env} yet: deploy a release first`
          : `${target.env} runs on this host, not on enrolled hosts: ${target.app} has deployments there, not a rollout (ferry status)`,
        { where: `${target.app}/${target.env}` },
      );
    return rollout;
  }

  async setCanaryWeight(
    app: string,
    env: string | undefined,
    weight: number,
    actor: string,
  ): Promise<Deployment> {
    return toDeployment(await this.deps.deployer.setCanaryWeight(app, env, weight, actor));
  }

  async deployment(id: string): Promise<Deployment> {
    const live = this.deps.deployer.run(id)?.current;
    const state = live ?? (await this.deps.store.getDeployment(id));
    if (!state)
      throw new FerryError('FERRY_E_DEPLOYMENT_UNKNOWN', `no deployment with id "${id}"`, { got: id });
    return this.withReport(state);
  }

  deploymentEvents(id: string, afterSeq?: number) {
    return this.deps.store.listEvents(id, afterSeq);
  }

  async history(app: string, env: string | undefined, limit: number): Promise<HistoryResponse> {
    const resolved = this.resolve(app, env);
    const deployments = await this.deps.store.listDeployments({ ...resolved, limit });
    return {
      deployments: await Promise.all(deployments.map((d) => this.withReport(d))),
      releases: await this.deps.store.listReleases(resolved.app, resolved.env),
    };
  }

  addRelease(app: string, body: ReleaseAddBody, actor: string): Promise<ReleaseAddResponse> {
    return addRelease(this.deps, app, body, actor);
  }

  releases(app: string, limit: number): Promise<ReleasesResponse> {
    return listReleases(this.deps, app, limit);
  }

  async logs(app: string, env: string | undefined, lines: number): Promise<LogsResponse> {
    const target = this.resolve(app, env);
    // On enrolled hosts: asked of each host's agent, which has the files.
    if (this.deps.fleet.has(target.env))
      return { lines: await this.deps.fleet.logs(target.app, target.env, lines) };
    // On this host: asked of its agent too, as of any host.
    return { lines: await this.deps.hostLogs(target.app, target.env, lines) };
  }

  followLogs(
    app: string,
    env: string | undefined,
    lines: number,
    follow: { readonly signal: AbortSignal; readonly send: (line: LogLine) => void },
  ): Promise<void> {
    const target = this.resolve(app, env);
    // Through the agents of the hosts that run it: enrolled ones, or this server's own.
    const following = this.deps.fleet.has(target.env)
      ? this.deps.fleet.followLogs(target.app, target.env, lines, follow)
      : this.deps.followHostLogs(target.app, target.env, lines, follow);
    // It runs until the follow's signal aborts and never rejects: the answer is that it runs.
    void following;
    return Promise.resolve();
  }

  /** The deployment with its served-request report: live while it runs, as persisted after. */
  private async withReport(state: DeploymentState): Promise<Deployment> {
    const live = this.deps.deployer.run(state.id)?.servedReport;
    const served = live ?? (await this.deps.store.getServedReport(state.id))?.report ?? null;
    return toDeployment(state, served);
  }

  /** An app and environment of the configuration, or one that left it but still runs (logs, history). */
  private resolve(app: string, env: string | undefined): { app: string; env: string } {
    const running = this.deps
      .hostReport()
      ?.apps.find((a) => a.app === app && (env === undefined || a.env === env));
    if (running && !Object.hasOwn(this.deps.config.current.apps, app)) return { app, env: running.env };
    return resolveAppEnv(this.deps.config.current, app, env);
  }
}

/**
 * A canary step running or paused: its analysis window so far per release, read live from the
 * router when status asks (no polling of its own), and each release's healthy instances.
 */
async function canaryView(
  state: DeploymentState,
  counters: (state: DeploymentState, versions: readonly string[]) => Promise<LiveCounters>,
): Promise<CanaryLiveView | null> {
  const shifting = state.phase === 'shifting' && (state.status === 'running' || state.status === 'paused');
  if (!shifting || state.strategy.kind !== 'canary') return null;
  const releases: Array<{ version: string; role: 'canary' | 'stable'; weight: number }> = [
    { version: state.to, role: 'canary', weight: state.weight },
  ];
  if (state.from !== null && state.from !== state.to)
    releases.push({ version: state.from, role: 'stable', weight: 100 - state.weight });
  const live = await counters(
    state,
    releases.map((r) => r.version),
  );
  return {
    step: state.step,
    weight: state.weight,
    since: live.since,
    releases: releases.map((r, n) => {
      const { requests, errors, healthy, instances } = live.releases[n]!;
      return { ...r, requests, errors, healthy, instances };
    }),
    error: live.error,
  };
}
