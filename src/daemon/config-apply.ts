import { createHash } from 'node:crypto';
import type { ConfigChangeView, ConfigPlanView } from '../api/types.js';
import { planConfigChange, type AppEnvChange, type ConfigPlan } from '../config/plan.js';
import type { FerryConfig } from '../config/types.js';
import type { DeploymentState } from '../engine/types.js';
import { FerryError } from '../errors/ferry-error.js';
import { publishConfigApplied } from '../events/config-applied.js';
import type { EventSink } from '../events/publisher.js';
import type { Logger } from '../lib/logger.js';
import type { DeployLocks } from '../runtime/deploy-locks.js';
import { RESTART_BATCH_SIZE, type Deployer } from '../runtime/deployer.js';
import { ACTIVE_STATUSES } from '../rollout/types.js';
import type { Fleet } from '../server/fleet/fleet.js';
import { describeLock } from '../server/locks/lock-errors.js';
import { unlockCommand, type Lock } from '../server/locks/lock.js';
import type { Store } from '../store/store.js';
import { runsOnThisHost } from '../config/resolve.js';
import { resolveAppAccounts, type RunAccount } from '../supervisor/index.js';
import type { AppOnHost } from '../protocol/desired-state.js';
import type { HostReport } from '../protocol/report.js';
import { steadyApp } from '../runtime/desired/edits.js';
import type { LocalSpecs } from './local-specs.js';

/** How long an apply waits for this host's report to show a change that stops nothing. */
const ACK_MS = 10_000;

/** What this host's report shows once a change is done on it, and how long that may take. */
interface Acknowledgement {
  readonly done: (report: HostReport) => boolean;
  readonly withinMs: number;
}

/** What an apply did: its plan and the deployments it started (initial releases, restarts). */
export interface ConfigApplied {
  readonly plan: ConfigPlanView;
  readonly deployments: readonly DeploymentState[];
}

export interface ApplyOptions {
  readonly prune: boolean;
  readonly actor: string;
  /** The plan's id as shown: refused if the plan is another now. */
  readonly expect?: string;
  /** `ferry apply` (through the API) or a reload of the daemon's own file (SIGHUP). */
  readonly source: 'apply' | 'reload';
}

export interface ConfigApplierDeps {
  /** The configuration in effect; applying replaces `current`. */
  readonly live: { current: FerryConfig };
  /**
   * How each app runs on this host, those that left the configuration but still run included: an
   * apply sets an app's entry, then edits its desired state (the new digest makes the agent
   * reconfigure its host), and waits for the host's report to say it did.
   */
  readonly specs: LocalSpecs;
  /** This host's last report (null before its first): what runs here, its stale instances. */
  readonly hostReport: () => HostReport | null;
  /** Per app, the account its processes run as; replaced in place when run.user changes. */
  readonly accounts: Map<string, RunAccount>;
  readonly deployer: Deployer;
  readonly store: Store;
  /** This host's desired state: apps added or removed change it. */
  readonly setDesired: (
    app: string,
    env: string,
    change: ((doc: AppOnHost) => AppOnHost) | null,
  ) => Promise<unknown>;
  readonly logger: Logger;
  /** Sets the data directory's modes for the apps and their accounts (protectDataDir). */
  readonly protect: (config: FerryConfig, accounts: ReadonlyMap<string, RunAccount>) => void;
  /** The daemon's events: each apply is published there (what changed by name, never a value). */
  readonly events: EventSink;
  readonly now: () => number;
  /** The locks: a change that would deploy or restart a locked app is refused (none without it). */
  readonly locks?: Pick<DeployLocks, 'holding'>;
  /**
   * The environments on enrolled hosts (null before the server's API is assembled): the apps their
   * hosts run, so that one that left the file is kept or pruned there too.
   */
  readonly fleet?: () => Pick<Fleet, 'apps' | 'remove' | 'rollout'> | null;
  /** Waits up to `timeoutMs` for this host's report to say `done`: what the apply changed is shown then. */
  readonly hostReported?: (done: (report: HostReport) => boolean, timeoutMs: number) => Promise<void>;
}

/**
 * `ferry apply` and SIGHUP: compares a configuration with what runs (planConfigChange) and applies
 * that same plan. Nothing changes when the plan is refused: a global setting that needs a restart,
 * a listen port still held by an app kept running, or a deployment running for an app that would
 * change (the change is refused rather than queued: run it again once the deployment ended). One
 * apply at a time.
 */
export class ConfigApplier {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: ConfigApplierDeps) {}

  /** The plan for `next`, with what applying it would do and why it would be refused. */
  plan(next: FerryConfig, opts: { prune: boolean }): Promise<ConfigPlanView> {
    return this.serial(async () => (await this.planFor(next, opts)).view);
  }

  /**
   * Applies `next` as its plan says; refused (nothing changed) when the plan has refusals. `source`:
   * `ferry apply` (the API) or a reload of the daemon's own file (SIGHUP).
   */
  apply(next: FerryConfig, opts: ApplyOptions): Promise<ConfigApplied> {
    return this.serial(() => this.applyNow(next, opts));
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async planFor(
    next: FerryConfig,
    opts: { prune: boolean },
  ): Promise<{ plan: ConfigPlan; view: ConfigPlanView; active: Map<string, DeploymentState> }> {
    const { live, specs, store } = this.deps;
    const report = this.deps.hostReport();
    const appEnvs = await Promise.all(
      specs.all().map(async ({ app, env, settings }) => {
        const current = (await store.getCurrent(app.name, env)) ?? null;
        const reported = report?.apps.find((a) => a.app === app.name && a.env === env);
        return {
          app,
          env,
          settings,
          inConfig: isInConfig(live.current, app.name, env),
          stale:
            current !== null && (reported?.instances ?? []).some((i) => i.stale && i.version === current),
        };
      }),
    );
    const fleet = this.deps.fleet?.() ?? null;
    const fleetApps = fleet === null ? [] : await fleet.apps();
    const plan = planConfigChange({ config: live.current, appEnvs, fleetApps }, next, opts);
    const active = new Map<string, DeploymentState>();
    const locked: Array<{ readonly app: string; readonly lock: Lock }> = [];
    const changes: ConfigChangeView[] = [];
    const rollouts: Array<{ readonly app: string; readonly env: string; readonly status: string }> = [];
    for (const change of plan.changes) {
      // An app leaving the enrolled hosts waits for its rollout to end, as one here for its deployment.
      if (change.action === 'remove' && !specs.has(change.app, change.env) && fleet !== null) {
        const rollout = await fleet.rollout(change.app, change.env);
        if (rollout !== null && ACTIVE_STATUSES.has(rollout.status))
          rollouts.push({ app: change.app, env: change.env, status: rollout.status });
      }
      const deployment = await store.activeDeployment(change.app, change.env);
      if (deployment && change.action !== 'keep') active.set(`${change.app}.${change.env}`, deployment);
      const lock = (await this.startsDeployment(change, next))
        ? await this.deps.locks?.holding(change.app, change.env)
        : null;
      if (lock) locked.push({ app: change.app, lock });
      changes.push({ ...change, effect: await this.describe(change, next) });
    }
    const refused: Array<ConfigPlanView['refused'][number]> = [
      ...plan.needsRestart.map((path) => ({
        code: 'FERRY_E_CONFIG_NEEDS_RESTART',
        path,
        message:
          'the daemon took it at start and cannot change it while it runs: stop the daemon and run ferry up with the file again to use the new value (the apps keep serving meanwhile)',
      })),
      ...plan.conflicts.map((c) => ({ code: 'FERRY_E_CONFIG_INVALID', ...c })),
      ...[...active.values()].map((d) => ({
        code: 'FERRY_E_DEPLOYMENT_IN_PROGRESS',
        path: `apps.${d.app}`,
        message: `deployment ${d.id} of ${d.app} in ${d.env} (${d.from ?? 'nothing'} -> ${d.to}) is ${d.status}; apply again once it ended (or end it with: ferry abort ${d.app} --env ${d.env})`,
      })),
      ...rollouts.map(({ app, env, status }) => ({
        code: 'FERRY_E_DEPLOYMENT_IN_PROGRESS',
        path: `apps.${app}`,
        message: `the rollout of ${app} across the hosts of ${env} is ${status}; apply again once it ended (or end it with: ferry abort ${app} --env ${env})`,
      })),
      ...locked.map(({ app, lock }) => ({
        code: 'FERRY_E_LOCKED',
        path: `apps.${app}`,
        message: `${describeLock(lock)}; apply again once it is released or expires (or release it with: ${unlockCommand(lock)})`,
      })),
    ];
    const body = { path: next.configPath, prune: opts.prune, changes, refused };
    const id = createHash('sha256').update(JSON.stringify(body)).digest('hex').slice(0, 12);
    return { plan, view: { id, ...body }, active };
  }

  /** Whether applying the change starts a deployment: an initial release, or a restart. */
  private async startsDeployment(change: AppEnvChange, next: FerryConfig): Promise<boolean> {
    if (change.action !== 'add' && change.action !== 'replace') return false;
    const current = (await this.deps.store.getCurrent(change.app, change.env)) ?? null;
    if (change.action === 'replace') return current !== null;
    return current === null && Boolean(next.apps[change.app]?.initialRelease);
  }

  /** What applying does to one app in one environment, in words (no values). */
  private async describe(change: AppEnvChange, next: FerryConfig): Promise<string> {
    const { app, env } = change;
    const current = (await this.deps.store.getCurrent(app, env)) ?? null;
    const wanted = Object.hasOwn(next.apps, app) ? next.apps[app]!.environments[env]?.instances : undefined;
    switch (change.action) {
      case 'add': {
        const initial = next.apps[app]!.initialRelease;
        if (current) return `starts ${wanted ?? 0} instance(s) of ${current} (its current release)`;
        return initial
          ? `deploys ${initial} (initial_release)`
          : `serves nothing until a release is deployed (ferry deploy ${app} VERSION --env ${env})`;
      }
      case 'remove':
        if (!this.deps.specs.has(app, env))
          return "drains and stops its instances and removes its route on the environment's hosts (--prune)";
        return `drains and stops its instances and removes its route (--prune)`;
      case 'keep':
        if (!this.deps.specs.has(app, env))
          return `keeps running on the environment's hosts (would stop with --prune)`;
        return `keeps running as "not in config" (would stop with --prune)`;
      case 'replace':
        if (!current) return 'no release runs: the next deployment uses the new settings';
        return `replaces the instances of ${current} with ${wanted ?? 0} new one(s), ${RESTART_BATCH_SIZE} at a time, each healthy before an old one stops`;
      case 'update':
        if (!runsOnThisHost(next, env))
          return "takes effect at the next rollout across the environment's hosts";
        return change.fields.some((f) => f === 'listen' || f.startsWith('router.'))
          ? 'applies the router settings at once; the rest at the next deployment'
          : 'takes effect at the next deployment';
    }
  }

  private async applyNow(next: FerryConfig, opts: ApplyOptions): Promise<ConfigApplied> {
    const { view } = await this.planFor(next, opts);
    if (opts.expect !== undefined && opts.expect !== view.id)
      throw new FerryError(
        'FERRY_E_ILLEGAL_STATE',
        `the plan changed since it was shown (expected plan ${opts.expect}, got ${view.id}): review it again with ferry apply`,
        { expected: opts.expect, got: view.id },
      );
    refuse(view);
    // Every account must resolve before anything changes.
    const accounts = resolveAppAccounts(next);
    const { deps } = this;
    deps.live.current = next;
    for (const name of [...deps.accounts.keys()])
      if (Object.hasOwn(next.apps, name)) deps.accounts.delete(name);
    for (const [name, account] of accounts) deps.accounts.set(name, account);
    const started: DeploymentState[] = [];
    // Removals first: an app added in the same apply may take the port a pruned one frees.
    const ordered = [...view.changes].sort(
      (a, b) => Number(b.action === 'remove') - Number(a.action === 'remove'),
    );
    const acknowledged: Acknowledgement[] = [];
    for (const change of ordered) {
      const deployment = await this.applyChange(change, next, opts.actor, acknowledged);
      if (deployment) started.push(deployment);
    }
    // Answered once this host's report shows what changed on it: `ferry status` reads that report.
    if (acknowledged.length > 0)
      await deps.hostReported?.(
        (report) => acknowledged.every(({ done }) => done(report)),
        Math.max(...acknowledged.map((a) => a.withinMs)),
      );
    deps.protect(next, deps.accounts);
    const changes = view.changes.map(({ app, env, action, fields }) => ({ app, env, action, fields }));
    const deployments = started.map((d) => d.id);
    await deps.store.audit({
      at: deps.now(),
      actor: opts.actor,
      action: 'apply',
      target: 'config',
      detail: { path: next.configPath, changes, deployments },
    });
    deps.logger.info({ actor: opts.actor, changes, deployments }, 'configuration applied');
    publishConfigApplied(deps.events, next, opts.source, {
      apps: [...new Set(changes.map((c) => c.app))],
      summary: describeChanges(changes),
    });
    return { plan: view, deployments: started };
  }

  /**
   * Applies one change. On this host it sets the app's configuration and edits its desired state;
   * what this host's report will show once its agent did it goes to `acknowledged`.
   */
  private async applyChange(
    change: ConfigChangeView,
    next: FerryConfig,
    actor: string,
    acknowledged: Acknowledgement[],
  ): Promise<DeploymentState | null> {
    const { specs, deployer, store } = this.deps;
    const { app: name, env } = change;
    const current = (await store.getCurrent(name, env)) ?? null;
    const reported = (report: HostReport) => report.apps.find((a) => a.app === name && a.env === env);
    switch (change.action) {
      case 'keep':
        return null;
      case 'remove': {
        // On enrolled hosts: each host's agent drains and stops it once its desired state no longer names it.
        if (!specs.has(name, env)) {
          const removed = (await this.deps.fleet?.()?.remove(name, env)) ?? [];
          this.deps.logger.info({ app: name, env, hosts: removed }, 'taken off the hosts');
          return null;
        }
        // Out of the host's desired state: its agent drains and stops the instances and removes the route.
        await this.deps.setDesired(name, env, null);
        const { stopGraceMs } = specs.get(name, env)!.app;
        specs.delete(name, env);
        // Its instances drain, then have their stop grace: as long as an apply waited before.
        acknowledged.push({
          done: (report) => reported(report) === undefined,
          withinMs: ACK_MS + 2 * stopGraceMs,
        });
        return null;
      }
      case 'add': {
        const app = next.apps[name]!;
        const { digest } = specs.set(app, env);
        acknowledged.push({ done: (report) => reported(report)?.spec === digest, withinMs: ACK_MS });
        if (current) {
          const { instances } = app.environments[env]!;
          await this.deps.setDesired(name, env, (doc) => steadyApp(doc, current, instances));
          return null;
        }
        // Named in the desired state at once: its host is made, and its listen address serves.
        await this.deps.setDesired(name, env, (doc) => doc);
        if (!app.initialRelease) return null;
        return deployer.deploy({ app: name, env, version: app.initialRelease, actor });
      }
      case 'update':
      case 'replace': {
        // The fleet's: its rollouts read the configuration in effect.
        if (!runsOnThisHost(next, env)) return null;
        const { digest } = specs.set(next.apps[name]!, env);
        // The edit carries the new digest: the agent reconfigures the app's host (its route at once).
        await this.deps.setDesired(name, env, (doc) => doc);
        acknowledged.push({ done: (report) => reported(report)?.spec === digest, withinMs: ACK_MS });
        if (change.action === 'update' || !current) return null;
        return deployer.restart({ app: name, env, actor });
      }
    }
  }
}

/** What an apply changed, in a line: "replace hello (production), keep old (production)". */
function describeChanges(changes: ReadonlyArray<Pick<ConfigChangeView, 'app' | 'env' | 'action'>>): string {
  if (changes.length === 0) return 'no changes';
  return changes.map((c) => `${c.action} ${c.app} (${c.env})`).join(', ');
}

/** Whether the app and environment are in the configuration in effect. */
function isInConfig(config: FerryConfig, app: string, env: string): boolean {
  return Object.hasOwn(config.apps, app) && Object.hasOwn(config.apps[app]!.environments, env);
}

/** A refused plan becomes one error naming every refusal; the most fundamental kind gives the code. */
function refuse(view: ConfigPlanView): void {
  if (view.refused.length === 0) return;
  const order = [
    'FERRY_E_CONFIG_NEEDS_RESTART',
    'FERRY_E_CONFIG_INVALID',
    'FERRY_E_DEPLOYMENT_IN_PROGRESS',
    'FERRY_E_LOCKED',
  ] as const;
  const code = order.find((c) => view.refused.some((r) => r.code === c)) ?? 'FERRY_E_CONFIG_INVALID';
  const lines = view.refused.map((r) => `  ${r.path}: ${r.message}`);
  throw new FerryError(code, `the configuration was not applied (nothing changed):\n${lines.join('\n')}`, {
    problems: view.refused.map(({ path, message }) => ({ path, message })),
  });
}
