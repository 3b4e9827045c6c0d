import { runsOnThisHost } from '../config/resolve.js';
import { randomBytes } from 'node:crypto';
import { compileStrategyKind } from './strategy.js';
import { percent } from '../config/fields.js';
import { resolveAppEnv } from '../config/resolve.js';
import type { ConfigSource } from '../config/types.js';
import { rollbackTarget } from './rollback-target.js';
import { canaryWeightError } from '../engine/canary-weight.js';
import { commandError } from '../engine/commands.js';
import { createDeployment, describeProgress } from '../engine/create.js';
import { triggerOf } from '../releases/trigger.js';
import type { DeploymentCommand, DeploymentKind, DeploymentState, StrategyKind } from '../engine/types.js';
import { FerryError } from '../errors/ferry-error.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { assertVersionName } from '../lib/release-version.js';
import type { EventPublisher } from '../events/publisher.js';
import type { QueuedDeploy } from '../server/locks/deploy-queue.js';
import { lockedError } from '../server/locks/lock-errors.js';
import type { Store } from '../store/store.js';
import { assertDeployUnlocked, type DeployLocks } from './deploy-locks.js';
import type { EffectPort } from './effects.js';
import { DeploymentRun } from './run.js';

export interface DeployRequest {
  readonly app: string;
  readonly env?: string;
  readonly version: string;
  readonly strategy?: StrategyKind;
  /** Deploy a release the ledger marks bad (refused otherwise with FERRY_E_RELEASE_BAD). */
  readonly force?: boolean;
  readonly actor: string;
  /** Lines for the deployment's event log before its first step (why it starts now). */
  readonly notes?: readonly string[];
}

/** What `deployOrQueue` did: started the deployment, or queued it behind a lock. */
export type DeployOutcome =
  | { readonly deployment: DeploymentState }
  | { readonly queued: QueuedDeploy; readonly replaced: QueuedDeploy | null };

export interface RestartRequest {
  readonly app: string;
  readonly env?: string;
  readonly actor: string;
}

/** Instances a restart starts (then as many old ones retire) per batch: one at a time, as PM2's reload does. */
export const RESTART_BATCH_SIZE = 1;

export interface RollbackRequest {
  readonly app: string;
  readonly env?: string;
  readonly to?: string;
  readonly actor: string;
}

/**
 * Starts, steers and resumes deployments. One deployment per app and environment at a time: a
 * second request is refused (FERRY_E_DEPLOYMENT_IN_PROGRESS) rather than queued, so that nobody's
 * deploy silently runs minutes later on top of a state they did not see.
 */
export class Deployer {
  private readonly runs = new Map<string, DeploymentRun>();
  /** Finishing work after a deployment ended (current release, symlink, pruning, hooks). */
  onFinished: (state: DeploymentState) => Promise<void> = () => Promise.resolve();

  constructor(
    private readonly deps: {
      /** The configuration in effect (`ferry apply` replaces it). */
      readonly config: ConfigSource;
      readonly store: Store;
      readonly effects: EffectPort;
      readonly logger: Logger;
      /** Deployments' time and their ticker. */
      readonly clock: Clock;
      readonly tickMs: number;
      /** Every deployment's states and events are published here. */
      readonly events: EventPublisher;
      /** The locks that refuse deploys and restarts (none without it). */
      readonly locks?: DeployLocks;
    },
  ) {}

  /** Deploys a release; refused (FERRY_E_LOCKED) while a lock holds the app in the environment. */
  async deploy(request: DeployRequest): Promise<DeploymentState> {
    const { app, env } = this.resolve(request.app, request.env);
    assertVersionName(request.version);
    await assertDeployUnlocked(this.deps.locks, app, env, request.version);
    await this.assertIdle(app, env);
    const notes = [...(request.notes ?? []), ...(await this.assertDeployable(app, env, request))];
    const current = (await this.deps.store.getCurrent(app, env)) ?? null;
    if (current === request.version) {
      if (request.force)
        // Deployed again: installed (before_start runs), then its instances replaced batch by batch.
        return this.beginRestart('deploy', app, env, current, request.actor, notes);
      throw alreadyServes(app, env, request.version);
    }
    // The release enters the ledger once it is installed and verified (the install effect), never before.
    const appConfig = this.deps.config.current.apps[app]!;
    const strategy = compileStrategyKind(appConfig, request.strategy ?? appConfig.strategy.kind);
    return this.begin('deploy', app, env, current, request.version, strategy, request.actor, notes);
  }

  /**
   * `ferry deploy --queue`: deploys now when no lock holds the app; otherwise keeps the deploy until
   * the lock is released or expires (one per app and environment, replacing one queued before).
   * What would refuse it then refuses it now: a bad release without force, the release serving
   * already, a strategy the app cannot use. A deployment running now does not: it has likely ended
   * by the time the lock goes.
   */
  async deployOrQueue(request: DeployRequest): Promise<DeployOutcome> {
    const { app, env } = this.resolve(request.app, request.env);
    assertVersionName(request.version);
    const lock = await this.deps.locks?.holding(app, env);
    if (!lock || !this.deps.locks) return { deployment: await this.deploy(request) };
    await this.assertDeployable(app, env, request);
    const current = (await this.deps.store.getCurrent(app, env)) ?? null;
    if (current === request.version && !request.force) throw alreadyServes(app, env, request.version);
    const appConfig = this.deps.config.current.apps[app]!;
    compileStrategyKind(appConfig, request.strategy ?? appConfig.strategy.kind);
    return this.deps.locks.enqueue(
      {
        app,
        env,
        version: request.version,
        strategy: request.strategy ?? null,
        force: request.force === true,
        actor: request.actor,
      },
      lock,
    );
  }

  /**
   * `ferry restart` (and `ferry apply` when an app's run configuration changed): the serving
   * release's instances replaced with the app's configuration now, batch by batch, each batch
   * healthy before as many old instances drain and stop. Refused while a deployment runs.
   */
  async restart(request: RestartRequest): Promise<DeploymentState> {
    const { app, env } = this.resolve(request.app, request.env);
    const lock = await this.deps.locks?.holding(app, env);
    if (lock) throw lockedError(lock, `cannot restart ${app} in ${env}`);
    await this.assertIdle(app, env);
    const current = (await this.deps.store.getCurrent(app, env)) ?? null;
    if (current === null)
      throw new FerryError(
        'FERRY_E_ILLEGAL_STATE',
        `no release serves ${app} in ${env}; nothing to restart (deploy one with: ferry deploy ${app} VERSION --env ${env})`,
        { app, env },
      );
    return this.beginRestart('restart', app, env, current, request.actor);
  }

  private beginRestart(
    kind: 'restart' | 'deploy',
    app: string,
    env: string,
    version: string,
    actor: string,
    notes: readonly string[] = [],
  ): Promise<DeploymentState> {
    const appConfig = this.deps.config.current.apps[app]!;
    const old = this.deps.effects.instanceIds(app, env, version);
    return this.begin(
      kind,
      app,
      env,
      version,
      version,
      compileStrategyKind(appConfig, 'blue-green'),
      actor,
      notes,
      {
        old,
        batchSize: RESTART_BATCH_SIZE,
        batch: 0,
        retiring: false,
      },
    );
  }

  async rollback(request: RollbackRequest): Promise<DeploymentState> {
    const { app, env } = this.resolve(request.app, request.env);
    await this.assertIdle(app, env);
    const current = (await this.deps.store.getCurrent(app, env)) ?? null;
    const releases = await this.deps.store.listReleases(app, env);
    const version = rollbackTarget(releases, current, request.to, { app, env });
    const appConfig = this.deps.config.current.apps[app]!;
    // No gates on a rollback: the release is on disk and proven here. Side by side unless the app cannot.
    const kind = appConfig.strategy.kind === 'all-at-once' ? 'all-at-once' : 'blue-green';
    return this.begin(
      'rollback',
      app,
      env,
      current,
      version,
      compileStrategyKind(appConfig, kind),
      request.actor,
    );
  }

  /** pause, resume, promote, abort; `force` (abort only) ends the deployment at once in any phase. */
  async command(
    app: string,
    envName: string | undefined,
    cmd: DeploymentCommand,
    actor: string,
    opts: { force?: boolean } = {},
  ): Promise<DeploymentState> {
    const { env } = this.resolve(app, envName);
    const run = await this.activeRun(app, env, `nothing to ${cmd}`);
    const force = opts.force === true;
    if (force && cmd !== 'abort')
      throw new FerryError('FERRY_E_USAGE', `force: only abort can be forced, got it with ${cmd}`, {
        expected: 'abort',
        got: cmd,
      });
    const why = commandError(run.current, cmd, { force });
    if (why) throw illegalState(`cannot ${cmd}: ${why}`, run.current);
    await this.deps.store.audit({
      at: this.deps.clock.now(),
      actor,
      action: force ? `${cmd} --force` : cmd,
      target: `${app}.${env}`,
      detail: { deployment: run.current.id, ...(force ? { force } : {}) },
    });
    await run.dispatch({ type: 'command', command: cmd, actor, ...(force ? { force } : {}) });
    return run.current;
  }

  /**
   * `ferry canary APP --weight P`: the running (or paused) canary step's share of the traffic. The
   * step starts over at it (the engine's setCanaryWeight says why); later steps keep their own.
   */
  async setCanaryWeight(
    app: string,
    envName: string | undefined,
    weight: number,
    actor: string,
  ): Promise<DeploymentState> {
    const { env } = this.resolve(app, envName);
    const parsed = percent.safeParse(weight);
    if (!parsed.success) {
      const problem = parsed.error.issues[0]?.message ?? 'expected a percentage of traffic';
      // 0 is what interstellar's quota takes for "no traffic": here that is an abort.
      const hint =
        weight === 0 ? `; to take all traffic off the canary: ferry abort ${app} --env ${env}` : '';
      throw new FerryError('FERRY_E_USAGE', `weight: ${problem}${hint}`, {
        expected: 'a percentage of traffic above 0 and at most 100',
        got: String(weight),
      });
    }
    const run = await this.activeRun(
      app,
      env,
      `no canary share to set; start a canary with: ferry deploy ${app} VERSION --env ${env} --strategy canary`,
    );
    const before = run.current;
    const why = canaryWeightError(before);
    if (why) throw illegalState(`cannot set the canary weight: ${why}`, before);
    await this.deps.store.audit({
      at: this.deps.clock.now(),
      actor,
      action: 'canary',
      target: `${app}.${env}`,
      detail: { deployment: before.id, step: before.step, weight: parsed.data, previous: before.weight },
    });
    await run.dispatch({ type: 'set-weight', weight: parsed.data, actor, step: before.step });
    const after = run.current;
    // The step passed (or the deployment moved on) between the check and the engine: say so.
    if (after.phase !== 'shifting' || after.step !== before.step)
      throw illegalState(
        `cannot set the canary weight: canary step ${before.step + 1} ended meanwhile (now ${describeProgress(after)}); run the command again for the step that runs now`,
        after,
      );
    return after;
  }

  /** The run of the app's active deployment in the environment; FERRY_E_ILLEGAL_STATE when none. */
  private async activeRun(app: string, env: string, then: string): Promise<DeploymentRun> {
    const active = await this.deps.store.activeDeployment(app, env);
    const run = active ? this.runs.get(active.id) : undefined;
    if (!run)
      throw new FerryError('FERRY_E_ILLEGAL_STATE', `no deployment of ${app} in ${env} is running; ${then}`, {
        app,
        env,
      });
    return run;
  }

  /** After a daemon restart: every deployment that was not final resumes where it was persisted. */
  async recover(): Promise<void> {
    for (const state of await this.deps.store.activeDeployments()) {
      this.deps.logger.info(
        { deployment: state.id, phase: state.phase },
        'resuming an interrupted deployment',
      );
      this.launch(state, state.status === 'pending' ? 'begin' : 'recover');
    }
  }

  run(id: string): DeploymentRun | undefined {
    return this.runs.get(id);
  }

  /** Daemon shutdown: runs stop ticking; their persisted state resumes on the next start. */
  stop(): void {
    for (const run of this.runs.values()) run.stop();
  }

  private async begin(
    kind: DeploymentKind,
    app: string,
    env: string,
    from: string | null,
    to: string,
    strategy: DeploymentState['strategy'],
    actor: string,
    notes: readonly string[] = [],
    replace: DeploymentState['replace'] = null,
  ): Promise<DeploymentState> {
    const appConfig = this.deps.config.current.apps[app]!;
    const instances = appConfig.environments[env]!.instances;
    // A restart runs no after_switch hook: no traffic moves to another release.
    const afterSwitchHook = replace === null && appConfig.hooks.afterSwitch.length > 0;
    const id = `d-${randomBytes(5).toString('hex')}`;
    const state = createDeployment(
      {
        id,
        app,
        env,
        kind,
        from,
        to,
        strategy,
        instances,
        afterSwitchHook,
        replace,
        trigger: triggerOf(actor),
      },
      this.deps.clock.now(),
    );
    await this.deps.store.createDeployment(state);
    for (const message of notes)
      await this.deps.store.appendEvent({
        deploymentId: id,
        at: this.deps.clock.now(),
        type: 'record',
        message,
      });
    await this.deps.store.audit({
      at: this.deps.clock.now(),
      actor,
      action: kind,
      target: `${app}.${env}`,
      detail: {
        deployment: id,
        from,
        to,
        ...(replace ? { replaces: replace.old.length, instances } : { strategy: strategy.kind }),
      },
    });
    this.launch(state, 'begin');
    return state;
  }

  private launch(state: DeploymentState, first: 'begin' | 'recover'): void {
    const run = new DeploymentRun(state, this.deps);
    this.runs.set(state.id, run);
    void run.whenFinished().then(async (final) => {
      this.runs.delete(final.id);
      await this.onFinished(final).catch((error: unknown) =>
        this.deps.logger.error({ err: error, deployment: final.id }, 'finishing a deployment failed'),
      );
    });
    run.start(first);
  }

  private async assertIdle(app: string, env: string): Promise<void> {
    const active = await this.deps.store.activeDeployment(app, env);
    if (active) {
      // Name only a command that applies now: a plain abort cannot end a deployment that is retiring.
      const end =
        commandError(active, 'abort') === null
          ? `abort it with: ferry abort ${app} --env ${env}`
          : `end it at once with: ferry abort ${app} --env ${env} --force`;
      throw new FerryError(
        'FERRY_E_DEPLOYMENT_IN_PROGRESS',
        `deployment ${active.id} of ${app} in ${env} (${active.from ?? 'nothing'} -> ${active.to}) is ${active.status} (phase ${active.phase}); wait for it, or ${end}`,
        { app, env, deployment: active.id },
      );
    }
  }

  /**
   * A release the ledger marks bad failed here before: deploying it again takes a `force`. Returns
   * what the deployment's events should say about it.
   */
  private async assertDeployable(app: string, env: string, request: DeployRequest): Promise<string[]> {
    const release = await this.deps.store.getRelease(app, env, request.version);
    if (release?.status !== 'bad') return [];
    const why = release.reason ? `: ${release.reason}` : '';
    if (request.force)
      return [
        `deploying ${request.version} although the ledger marks it bad (forced by ${request.actor})${why}`,
      ];
    throw new FerryError(
      'FERRY_E_RELEASE_BAD',
      `release ${request.version} of ${app} in ${env} is marked bad${why}; deploy it anyway with: ferry deploy ${app} ${request.version} --env ${env} --force`,
      { app, env, version: request.version, expected: 'a release not marked bad, or force', got: 'bad' },
    );
  }

  /**
   * The app and environment of a deployment on this host. An environment on enrolled hosts has no
   * deployment here, whatever path asks (its releases roll out across its hosts): refused, so that
   * nothing of it ever runs on the server's own host.
   */
  private resolve(app: string, env: string | undefined): { app: string; env: string } {
    const resolved = resolveAppEnv(this.deps.config.current, app, env);
    if (!runsOnThisHost(this.deps.config.current, resolved.env))
      throw new FerryError(
        'FERRY_E_USAGE',
        `${resolved.env} runs on enrolled hosts, not on this one: ${resolved.app} moves there by its rollout across them (ferry deploy, ferry rollback, ferry abort)`,
        { where: 'env', got: resolved.env },
      );
    return resolved;
  }
}

function alreadyServes(app: string, env: string, version: string): FerryError {
  return new FerryError(
    'FERRY_E_ILLEGAL_STATE',
    `${version} already serves ${app} in ${env}; nothing to deploy (to replace its instances: ferry restart ${app} --env ${env}; to deploy it again: --force)`,
    { app, env, version },
  );
}

function illegalState(message: string, state: DeploymentState): FerryError {
  return new FerryError('FERRY_E_ILLEGAL_STATE', message, {
    app: state.app,
    env: state.env,
    status: state.status,
    phase: state.phase,
  });
}
