import type { ServedReport } from '../engine/served-report.js';
import { step } from '../engine/step.js';
import {
  FINAL_STATUSES,
  type DeploymentState,
  type EngineEffect,
  type EngineEvent,
  type Failure,
  type Phase,
} from '../engine/types.js';
import { messageOf } from '../errors/ferry-error.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import type { EventPublisher } from '../events/publisher.js';
import type { Store } from '../store/store.js';
import { toDeployment } from './deployment-view.js';
import type { EffectPort } from './effects.js';
import { ServedTally } from './served-tally.js';

/**
 * Where a run keeps its deployment: the state before each effect, its events, its served-request
 * report, and the current release once it succeeds. The Store for a deployment of an app; the fleet
 * keeps a host's own deployment beside its rollout (src/server/fleet/host-deployments.ts).
 */
export type DeploymentRecords = Pick<
  Store,
  'saveDeployment' | 'appendEvent' | 'setCurrent' | 'getServedReport' | 'saveServedReport'
>;

export interface RunDeps {
  readonly store: DeploymentRecords;
  readonly effects: EffectPort;
  readonly logger: Logger;
  /** The run's time: the engine's `now` and the ticker (a fake clock in tests). */
  readonly clock: Clock;
  /**
   * How often the run ticks: it observes the releases in the phases that watch them, and gives the
   * engine the time in every phase (deadlines, retries).
   */
  readonly tickMs: number;
  /** Receives every persisted state and event (for the event streams, metrics and `ferry up`). */
  readonly events: { publish(input: Parameters<EventPublisher['publish']>[0]): unknown };
}

/** The phases whose releases the run observes at every tick (health, canary traffic). */
const OBSERVED_PHASES: ReadonlySet<Phase> = new Set([
  'starting',
  'shifting',
  'after-switch',
  'reverting',
  'replacing',
]);

/**
 * Drives one deployment: feeds events to the pure engine one at a time, persists each new state
 * before executing its effects, and turns effect outcomes, periodic observations and ticks into
 * events. Long effects (install, retire, hooks) run in the background and report back as events. An
 * effect that fails stops the rest of its batch (they may depend on it) and is reported to the engine,
 * which retries the phase with backoff.
 */
export class DeploymentRun {
  private queue: Promise<void> = Promise.resolve();
  private ticker: TimerHandle | null = null;
  private ticking = false;
  private readonly finished: Promise<DeploymentState>;
  private resolveFinished!: (state: DeploymentState) => void;
  /** The deployment's served-request report, read from the router beside the run. */
  private readonly served: ServedTally;

  constructor(
    private state: DeploymentState,
    private readonly deps: RunDeps,
  ) {
    this.finished = new Promise((resolve) => (this.resolveFinished = resolve));
    this.served = new ServedTally(state, deps);
  }

  /** The served-request report so far (null until its first reading is under way). */
  get servedReport(): ServedReport | null {
    return this.served.report;
  }

  get current(): DeploymentState {
    return this.state;
  }

  /** Resolves with the final state. */
  whenFinished(): Promise<DeploymentState> {
    return this.finished;
  }

  start(first: 'begin' | 'recover'): void {
    void this.served.start(this.state);
    this.ticker = this.deps.clock.setInterval(() => this.tick(), this.deps.tickMs);
    void this.dispatch({ type: first });
  }

  /** Queues an event; events are applied strictly one after another. */
  dispatch(event: EngineEvent): Promise<void> {
    return this.enqueue(event);
  }

  /**
   * Queues an event and resolves once the engine decided on it and its new state is persisted,
   * while its effects may still run (an operator's command is answered then, not after a host
   * acknowledged every effect).
   */
  decide(event: EngineEvent): Promise<void> {
    return new Promise((resolve, reject) => this.enqueue(event, resolve).then(resolve, reject));
  }

  private enqueue(event: EngineEvent, decided?: () => void): Promise<void> {
    const next = this.queue.then(() => this.apply(event, decided));
    this.queue = next.catch((error: unknown) =>
      this.deps.logger.error({ err: error, deployment: this.state.id }, 'deployment event failed'),
    );
    return next;
  }

  private async apply(event: EngineEvent, decided?: () => void): Promise<void> {
    if (FINAL_STATUSES.has(this.state.status)) return;
    const before = this.state;
    const { state, effects } = step(before, event, this.deps.clock.now());
    if (state !== before) {
      // The current release moves first: a crash before the next line replays the last phase,
      // which ends in the same place, so the ledger never names a release that is not serving.
      if (state.status === 'succeeded') await this.deps.store.setCurrent(state.app, state.env, state.to);
      // Persisted before any effect runs: a crash from here on resumes from this state.
      await this.deps.store.saveDeployment(state);
      this.state = state;
      decided?.();
      // A step that ended is read now, before the next one's effects move traffic.
      if (!FINAL_STATUSES.has(state.status)) this.served.observe(state);
      if (state.phase !== before.phase || state.status !== before.status) {
        await this.emitEvent('phase', `${state.status}: ${state.phase}`, {
          status: state.status,
          phase: state.phase,
          step: state.step,
          weight: state.weight,
        });
      }
    }
    decided?.();
    for (const effect of effects) {
      try {
        await this.execute(effect);
      } catch (error) {
        const failure = toFailure(error, 'FERRY_E_INTERNAL');
        this.deps.logger.warn({ err: error, deployment: state.id, effect: effect.type }, 'effect failed');
        await this.emitEvent('effect', `${effect.type} failed: ${failure.message}`, { failure }).catch(
          () => undefined,
        );
        void this.dispatch({ type: 'effect-failed', effect: effect.type, failure });
        break;
      }
    }
    // The report is complete before the end is announced (`deploy --wait` then `show` finds it so).
    if (state !== before && FINAL_STATUSES.has(state.status)) await this.served.finish();
    // Announced after the effects, so that a stream ending on a final state has all its events.
    if (state !== before) this.publishState(state);
    if (FINAL_STATUSES.has(this.state.status)) this.finish();
  }

  private async execute(effect: EngineEffect): Promise<void> {
    const { effects } = this.deps;
    switch (effect.type) {
      case 'record':
        return this.emitEvent('record', effect.message, effect.data);
      case 'install':
        this.background(
          effects.install(this.state, effect.version),
          () => ({ type: 'installed' }),
          (failure) => ({ type: 'install-failed', failure }),
        );
        return;
      case 'retire':
        this.background(
          effects.retire(this.state, effect.version),
          () => ({ type: 'retired', version: effect.version }),
          (failure) => ({ type: 'retire-failed', version: effect.version, failure }),
        );
        return;
      case 'retire-instances':
        this.background(
          effects.retireInstances(this.state, effect.version, effect.ids),
          () => ({ type: 'retired', version: effect.version }),
          (failure) => ({ type: 'retire-failed', version: effect.version, failure }),
        );
        return;
      case 'trim-instances':
        this.background(
          effects.trimInstances(this.state, effect.version, effect.exclude, effect.count),
          () => ({ type: 'retired', version: effect.version }),
          (failure) => ({ type: 'retire-failed', version: effect.version, failure }),
        );
        return;
      case 'stop-instances':
        // A forced end: the deployment is final already and waits for nothing.
        effects
          .stopInstances(this.state, effect.version)
          .catch((error: unknown) =>
            this.deps.logger.error(
              { err: error, deployment: this.state.id, release: effect.version },
              'could not stop the instances',
            ),
          );
        return;
      case 'activate':
        return effects.activate(this.state, effect.version);
      case 'run-hook':
        this.background(
          effects.runHook(this.state, effect.hook, effect.version),
          () => ({ type: 'hook-passed', hook: effect.hook }),
          (failure) => ({ type: 'hook-failed', hook: effect.hook, failure }),
        );
        return;
      case 'ensure-instances':
        try {
          await effects.ensureInstances(this.state, effect.version, effect.count, effect.exclude);
          await this.emitEvent('effect', `${effect.count} instance(s) of ${effect.version} running`);
        } catch (error) {
          void this.dispatch({
            type: 'start-failed',
            version: effect.version,
            failure: toFailure(error, 'FERRY_E_PROCESS_START'),
          });
        }
        return;
      case 'set-traffic':
        return effects.setTraffic(this.state, effect.weights);
      case 'open-window':
        return effects.openWindow(this.state);
      case 'mark-release':
        return effects.markRelease(this.state, effect.version, effect.verdict, effect.reason);
    }
  }

  private background(
    work: Promise<void>,
    ok: () => EngineEvent,
    failed: (failure: Failure) => EngineEvent,
  ): void {
    work.then(
      () => this.dispatch(ok()),
      (error: unknown) => this.dispatch(failed(toFailure(error, 'FERRY_E_INTERNAL'))),
    );
  }

  /**
   * Every tick: an observation in the phases that watch the releases, a plain tick elsewhere (or when
   * the observation failed), so deadlines and retries hold in every phase. One at a time: a slow
   * effect holding the queue does not pile ticks up behind it.
   */
  private tick(): void {
    const { phase, status } = this.state;
    if (this.ticking || status === 'pending' || FINAL_STATUSES.has(status)) return;
    this.served.observe(this.state);
    this.ticking = true;
    const event: Promise<EngineEvent> = OBSERVED_PHASES.has(phase)
      ? this.deps.effects.observe(this.state).catch((error: unknown) => {
          this.deps.logger.warn({ err: error, deployment: this.state.id }, 'observation failed');
          return { type: 'tick', unobserved: messageOf(error) };
        })
      : Promise.resolve({ type: 'tick' });
    event
      .then((e) => this.dispatch(e))
      .catch(() => undefined) // dispatch logs its own failures
      .finally(() => (this.ticking = false));
  }

  private async emitEvent(
    type: string,
    message: string,
    data?: Readonly<Record<string, unknown>>,
  ): Promise<void> {
    const event = await this.deps.store.appendEvent({
      deploymentId: this.state.id,
      at: this.deps.clock.now(),
      type,
      message,
      ...(data ? { data } : {}),
    });
    this.deps.logger.info({ deployment: this.state.id, app: this.state.app, env: this.state.env }, message);
    this.deps.events.publish({ kind: 'deployment-event', app: this.state.app, env: this.state.env, event });
  }

  private publishState(state: DeploymentState): void {
    this.deps.events.publish({
      kind: 'deployment',
      app: state.app,
      env: state.env,
      deployment: toDeployment(state),
    });
  }

  private finish(): void {
    if (this.ticker) this.deps.clock.clearInterval(this.ticker);
    this.ticker = null;
    this.resolveFinished(this.state);
  }

  /** Daemon shutdown: stop ticking; the persisted state lets the next daemon resume. */
  stop(): void {
    if (this.ticker) this.deps.clock.clearInterval(this.ticker);
    this.ticker = null;
  }
}

export function toFailure(error: unknown, fallback: string): Failure {
  const code =
    typeof error === 'object' &&
    error !== null &&
    'code' in error &&
    typeof error.code === 'string' &&
    error.code.startsWith('FERRY_E_')
      ? error.code
      : fallback;
  return { code, message: messageOf(error) };
}
