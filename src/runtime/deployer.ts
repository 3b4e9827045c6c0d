import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { compileStrategyKind } from './strategy.js';
import { resolveAppEnv } from '../config/resolve.js';
import type { FerryConfig } from '../config/types.js';
import { chooseRollbackTarget } from '../engine/ledger.js';
import { commandError } from '../engine/commands.js';
import { createDeployment } from '../engine/create.js';
import type { DeploymentCommand, DeploymentKind, DeploymentState, StrategyKind } from '../engine/types.js';
import { FerryError } from '../errors/ferry-error.js';
import type { Logger } from '../lib/logger.js';
import { assertVersionName } from '../lib/release-version.js';
import type { Store } from '../store/store.js';
import type { EffectPort } from './effects.js';
import { DeploymentRun } from './run.js';

export interface DeployRequest {
  readonly app: string;
  readonly env?: string;
  readonly version: string;
  readonly strategy?: StrategyKind;
  readonly actor: string;
}

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
  readonly bus = new EventEmitter();
  private readonly runs = new Map<string, DeploymentRun>();
  /** Finishing work after a deployment ended (current release, symlink, pruning, hooks). */
  onFinished: (state: DeploymentState) => Promise<void> = () => Promise.resolve();

  constructor(
    private readonly deps: {
      readonly config: FerryConfig;
      readonly store: Store;
      readonly effects: EffectPort;
      readonly logger: Logger;
      readonly now: () => number;
      readonly tickMs: number;
    },
  ) {
    this.bus.setMaxListeners(0);
  }

  async deploy(request: DeployRequest): Promise<DeploymentState> {
    const { app, env } = this.resolve(request.app, request.env);
    assertVersionName(request.version);
    await this.assertIdle(app, env);
    const current = (await this.deps.store.getCurrent(app, env)) ?? null;
    if (current === request.version) {
      throw new FerryError(
        'FERRY_E_ILLEGAL_STATE',
        `${request.version} already serves ${app} in ${env}; nothing to deploy`,
        { app, env, version: request.version },
      );
    }
    // The release enters the ledger once it is installed and verified (the install effect), never before.
    const appConfig = this.deps.config.apps[app]!;
    const strategy = compileStrategyKind(appConfig, request.strategy ?? appConfig.strategy.kind);
    return this.begin('deploy', app, env, current, request.version, strategy, request.actor);
  }

  async rollback(request: RollbackRequest): Promise<DeploymentState> {
    const { app, env } = this.resolve(request.app, request.env);
    await this.assertIdle(app, env);
    const current = (await this.deps.store.getCurrent(app, env)) ?? null;
    const releases = await this.deps.store.listReleases(app, env);
    const choice = chooseRollbackTarget(releases, current, request.to);
    if (!choice.ok) {
      const code =
        request.to !== undefined && !releases.some((r) => r.version === request.to)
          ? 'FERRY_E_RELEASE_UNKNOWN'
          : 'FERRY_E_NOTHING_TO_ROLL_BACK_TO';
      throw new FerryError(code, `cannot roll back ${app} in ${env}: ${choice.reason}`, { app, env });
    }
    const appConfig = this.deps.config.apps[app]!;
    // No gates on a rollback: the release is on disk and proven here. Side by side unless the app cannot.
    const kind = appConfig.strategy.kind === 'all-at-once' ? 'all-at-once' : 'blue-green';
    return this.begin(
      'rollback',
      app,
      env,
      current,
      choice.version,
      compileStrategyKind(appConfig, kind),
      request.actor,
    );
  }

  async command(
    app: string,
    envName: string | undefined,
    cmd: DeploymentCommand,
    actor: string,
  ): Promise<DeploymentState> {
    const { env } = this.resolve(app, envName);
    const active = await this.deps.store.activeDeployment(app, env);
    const run = active ? this.runs.get(active.id) : undefined;
    if (!active || !run)
      throw new FerryError(
        'FERRY_E_ILLEGAL_STATE',
        `no deployment of ${app} in ${env} is running; nothing to ${cmd}`,
        { app, env },
      );
    const why = commandError(run.current, cmd);
    if (why)
      throw new FerryError('FERRY_E_ILLEGAL_STATE', `cannot ${cmd}: ${why}`, {
        app,
        env,
        status: run.current.status,
        phase: run.current.phase,
      });
    await this.deps.store.audit({
      at: this.deps.now(),
      actor,
      action: cmd,
      target: `${app}.${env}`,
      detail: { deployment: active.id },
    });
    await run.dispatch({ type: 'command', command: cmd });
    return run.current;
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
  ): Promise<DeploymentState> {
    const instances = this.deps.config.apps[app]!.environments[env]!.instances;
    const id = `d-${randomBytes(5).toString('hex')}`;
    const state = createDeployment({ id, app, env, kind, from, to, strategy, instances }, this.deps.now());
    await this.deps.store.createDeployment(state);
    await this.deps.store.audit({
      at: this.deps.now(),
      actor,
      action: kind,
      target: `${app}.${env}`,
      detail: { deployment: id, from, to, strategy: strategy.kind },
    });
    this.launch(state, 'begin');
    return state;
  }

  private launch(state: DeploymentState, first: 'begin' | 'recover'): void {
    const run = new DeploymentRun(state, { ...this.deps, bus: this.bus });
    this.runs.set(state.id, run);
    void run.whenFinished().then(async (final) => {
      this.runs.delete(final.id);
      await this.onFinished(final).catch((error: unknown) =>
        this.deps.logger.error({ err: error, deployment: final.id }, 'finishing a deployment failed'),
      );
      this.bus.emit('finished', final);
    });
    run.start(first);
  }

  private async assertIdle(app: string, env: string): Promise<void> {
    const active = await this.deps.store.activeDeployment(app, env);
    if (active) {
      throw new FerryError(
        'FERRY_E_DEPLOYMENT_IN_PROGRESS',
        `deployment ${active.id} of ${app} in ${env} (${active.from ?? 'nothing'} -> ${active.to}) is ${active.status}; wait for it, or abort it with: ferry abort ${app} --env ${env}`,
        { app, env, deployment: active.id },
      );
    }
  }

  private resolve(app: string, env: string | undefined): { app: string; env: string } {
    return resolveAppEnv(this.deps.config, app, env);
  }
}
