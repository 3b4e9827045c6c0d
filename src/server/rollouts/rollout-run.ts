import { FerryError, messageOf } from '../../errors/ferry-error.js';
import type { Clock, TimerHandle } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import {
  ACTIVE_STATUSES,
  commandError,
  createRollout,
  deployError,
  step,
  type ControllerQuestion,
  type RolloutCommand,
  type RolloutEffect,
  type RolloutEvent,
  type RolloutOptions,
  type RolloutSeed,
  type RolloutState,
  type TargetReport,
} from '../../rollout/index.js';
import type { KvStore } from '../../store/kv/kv.js';
import { askController, type ControllerAsker } from './controller-client.js';
import type {
  ControllerEndpoints,
  DecisionSink,
  ReleaseVerdict,
  ReleaseVerdicts,
  TargetDriver,
} from './ports.js';
import {
  parseRecord,
  rolloutStoreKey,
  serializeRecord,
  type RolloutKey,
  type RolloutRecord,
} from './rollout-record.js';
import { isUnchanged } from './unchanged.js';

export interface RolloutRunDeps {
  readonly kv: KvStore;
  /** The engine's `now` and the ticker (a fake clock in tests). */
  readonly clock: Clock;
  readonly logger: Logger;
  readonly driver: TargetDriver;
  readonly verdicts: ReleaseVerdicts;
  readonly decisions: DecisionSink;
  /** Asks a controller (default: over HTTP, askController). */
  readonly ask?: ControllerAsker;
  /** How often the run ticks: targets' deadlines, the canary's pause, controllers' deadlines, unseen targets. */
  readonly tickMs: number;
  /** How many times a step is tried on a newer state after losing its compare-and-swap (default 10). */
  readonly casAttempts?: number;
}

/** A rollout's settings besides its state: its options and where its controllers are asked. */
export interface RolloutSettings {
  readonly options: RolloutOptions;
  readonly endpoints: ControllerEndpoints;
}

export interface DeployRequest {
  readonly version: string;
  /** Supersede a running rollout instead of queueing behind it; deploy a last known bad release. */
  readonly force?: boolean;
  readonly actor?: string;
  /**
   * The rollout's new settings from those it has now (read in the same compare-and-swap as the
   * step, never from a stale copy). They take effect with a deploy that starts a rollout at once;
   * behind a running one they are refused (FERRY_E_ILLEGAL_STATE). May throw: nothing changes.
   */
  readonly configure?: (current: RolloutSettings) => RolloutSettings;
}

/** The record as last read or written, and its mod revision (0: the store has none). */
interface Loaded {
  readonly record: RolloutRecord | null;
  readonly modRevision: number;
}

interface Planned {
  readonly record: RolloutRecord;
  readonly effects: readonly RolloutEffect[];
}

/** What a step plans from the record it is given (null: nothing to write); may throw to refuse. */
type Plan = (loaded: Loaded, now: number) => Planned | null;

const DEFAULT_CAS_ATTEMPTS = 10;

/**
 * Drives one rollout (one app in one environment, or one entity of a namespace of targets outside
 * Ferry) with the pure engine of src/rollout. Events go through one queue, a step at a time. Each
 * step's state is written to the key-value store with compare-and-swap on the record's revision
 * before any of its effects runs: when another writer got there first, the run reads the newer
 * record and steps the event again on it, so two runs over one store never both apply a step and
 * nothing is lost; a crash after the write resumes from it (`recover` at start: every target is
 * told its release again, pending questions are asked again). A clock drives ticks; controllers
 * are asked in the background, bounded by each question's deadline.
 */
export class RolloutRun {
  /** The rollout's key in the store (`/rollouts/...`). */
  readonly storeKey: string;
  private queue: Promise<unknown> = Promise.resolve();
  private loaded: Loaded | null = null;
  private ticker: TimerHandle | null = null;
  private ticking = false;
  private closed = false;
  /** Controller calls under way, by question id. */
  private readonly asking = new Map<string, AbortController>();
  /** Assignments that failed, retried at each tick: the latest for each target. */
  private readonly unsent = new Map<string, string | null>();
  /** Verdicts that could not be recorded, retried at each tick. */
  private unmarked: ReleaseVerdict[] = [];

  constructor(
    readonly key: RolloutKey,
    /** What a rollout of this key starts from when the store has none (created by its first event). */
    private readonly seed: RolloutSeed,
    private readonly deps: RolloutRunDeps,
  ) {
    this.storeKey = rolloutStoreKey(key);
  }

  /** The state as this run last read or wrote it; null before it is read, or when there is none. */
  get current(): RolloutState | null {
    return this.loaded?.record?.state ?? null;
  }

  /**
   * Starts ticking and reads the store: a rollout it holds resumes (`recover`). Resolves with its
   * state, or null when the store has none yet.
   */
  start(): Promise<RolloutState | null> {
    this.ticker ??= this.deps.clock.setInterval(() => this.tick(), this.deps.tickMs);
    return this.enqueue(async () => {
      this.loaded = await this.load();
      if (this.loaded.record === null) return null;
      return this.commitAndRun((loaded, now) => this.stepped(loaded, { type: 'recover' }, now, false));
    });
  }

  /** Targets reported their state (each report with its own time); creates the rollout if needed. */
  async report(reports: readonly TargetReport[]): Promise<RolloutState> {
    const state = await this.enqueue(() =>
      this.commitAndRun((loaded, now) => this.stepped(loaded, { type: 'reported', reports }, now, true)),
    );
    return state!;
  }

  /**
   * Rolls out a release (queued behind a running rollout, or superseding it with `force`).
   * Refused with nothing changed: FERRY_E_RELEASE_BAD for the last known bad release without
   * force, FERRY_E_ILLEGAL_STATE for new settings behind a running rollout.
   */
  async deploy(request: DeployRequest): Promise<RolloutState> {
    const state = await this.enqueue(() =>
      this.commitAndRun((loaded, now) => this.planDeploy(loaded, request, now)),
    );
    return state!;
  }

  /**
   * pause, resume or abort; refused with nothing changed (FERRY_E_ILLEGAL_STATE naming what
   * applies) when it does not apply, FERRY_E_ROLLOUT_UNKNOWN when there is no rollout yet.
   */
  async command(command: RolloutCommand, actor = 'request'): Promise<RolloutState> {
    const state = await this.enqueue(() =>
      this.commitAndRun((loaded, now) => {
        const record = loaded.record;
        if (record === null)
          throw new FerryError(
            'FERRY_E_ROLLOUT_UNKNOWN',
            `no rollout of ${this.seed.app} in ${this.seed.env}: it has been neither deployed nor reported to`,
            { where: this.storeKey },
          );
        const refused = commandError(record.state, command);
        if (refused !== null)
          throw new FerryError('FERRY_E_ILLEGAL_STATE', refused, {
            where: this.storeKey,
            got: record.state.status,
          });
        return this.stepped(loaded, { type: 'command', command, actor }, now, false);
      }),
    );
    return state!;
  }

  /** The rollout's record as the store holds it now (another server's steps included); null if none. */
  async read(): Promise<RolloutRecord | null> {
    return (await this.load()).record;
  }

  /** Resolves once every event queued so far has been stepped and its effects run. */
  async idle(): Promise<void> {
    await this.queue;
  }

  /**
   * Stops ticking, abandons the controller calls under way (their questions stay pending in the
   * state, and are asked again at the next start) and waits for the step under way.
   */
  async close(): Promise<void> {
    this.closed = true;
    if (this.ticker !== null) this.deps.clock.clearInterval(this.ticker);
    this.ticker = null;
    for (const call of this.asking.values()) call.abort();
    await this.queue;
  }

  private planDeploy(loaded: Loaded, request: DeployRequest, now: number): Planned {
    const base = loaded.record ?? this.newRecord(now);
    const force = request.force ?? false;
    const event: RolloutEvent = {
      type: 'deploy',
      version: request.version,
      force,
      actor: request.actor ?? 'request',
    };
    const refused = deployError(base.state, request.version, force);
    if (refused !== null)
      throw new FerryError(refused.code, refused.message, {
        where: this.storeKey,
        expected: 'a release that is not last known bad, or force',
        got: request.version,
      });
    const current: RolloutSettings = { options: base.state.options, endpoints: base.endpoints };
    const settings = request.configure?.(current) ?? current;
    const changed = JSON.stringify(settings) !== JSON.stringify(current);
    const active = ACTIVE_STATUSES.has(base.state.status);
    if (changed && active && !force)
      throw new FerryError(
        'FERRY_E_ILLEGAL_STATE',
        `the rollout of ${base.state.app} in ${base.state.env} is ${base.state.status} (${base.state.rolling ?? ''}): ` +
          'new options take effect with a deploy that starts a rollout, and this one would wait behind it; ' +
          'send them with force (it supersedes the running rollout), or once it ends',
        { where: this.storeKey, got: base.state.status },
      );
    if (changed) {
      const out = step({ ...base.state, options: settings.options }, event, now);
      // Behind an active rollout, settings only come with the rollout they start.
      if (!active || out.effects.some(isRolloutStart))
        return { record: { ...base, state: out.state, endpoints: settings.endpoints }, effects: out.effects };
    }
    const out = step(base.state, event, now);
    return { record: { ...base, state: out.state }, effects: out.effects };
  }

  /** A step of `event`; null when it changed nothing worth a write (a tick with nothing due). */
  private stepped(loaded: Loaded, event: RolloutEvent, now: number, create: boolean): Planned | null {
    const base = loaded.record ?? (create ? this.newRecord(now) : null);
    if (base === null) return null;
    const { state, effects } = step(base.state, event, now);
    if (loaded.record !== null && effects.length === 0 && isUnchanged(base.state, state)) return null;
    return { record: { ...base, state }, effects };
  }

  private newRecord(now: number): RolloutRecord {
    return { format: 1, state: createRollout(this.seed, now), endpoints: {} };
  }

  private async commitAndRun(plan: Plan): Promise<RolloutState | null> {
    const committed = await this.commit(plan);
    if (committed === null) return this.current;
    await this.runEffects(committed);
    return committed.record.state;
  }

  /**
   * Plans from the record and writes the result if the record is still the one planned from;
   * otherwise reads the newer one and plans again. A refusal planned from a copy this run kept is
   * checked against the store's record before it stands (another server may have moved on).
   */
  private async commit(plan: Plan): Promise<Planned | null> {
    let loaded = this.loaded ?? (await this.load());
    let fresh = this.loaded === null;
    const attempts = this.deps.casAttempts ?? DEFAULT_CAS_ATTEMPTS;
    for (let attempt = 1; ; attempt++) {
      let planned: Planned | null;
      try {
        planned = plan(loaded, this.deps.clock.now());
      } catch (error) {
        if (fresh) throw error;
        const newer = await this.load();
        if (newer.modRevision === loaded.modRevision) throw error;
        loaded = newer;
        fresh = true;
        continue;
      }
      if (planned === null) {
        this.loaded = loaded;
        return null;
      }
      const result = await this.deps.kv.txn({
        compare: [{ key: this.storeKey, modRevision: loaded.modRevision }],
        success: [{ type: 'put', key: this.storeKey, value: serializeRecord(planned.record) }],
      });
      if (result.succeeded) {
        this.loaded = { record: planned.record, modRevision: result.revision };
        return planned;
      }
      if (attempt >= attempts)
        throw new FerryError(
          'FERRY_E_STORE',
          `the rollout at ${this.storeKey} was changed by another writer ${attempt} times in a row while this step was tried; nothing was written`,
          { where: this.storeKey },
        );
      loaded = await this.load();
      fresh = true;
    }
  }

  private async load(): Promise<Loaded> {
    const entry = await this.deps.kv.get(this.storeKey);
    if (entry === undefined) return { record: null, modRevision: 0 };
    return { record: parseRecord(entry.value, this.storeKey), modRevision: entry.modRevision };
  }

  /** The effects of a persisted step, in order; controllers are asked in the background. */
  private async runEffects({ record, effects }: Planned): Promise<void> {
    for (const effect of effects) {
      switch (effect.type) {
        case 'assign':
          await this.assign(effect.target, effect.version);
          break;
        case 'ask-controller':
          this.ask(effect.question, record.endpoints);
          break;
        case 'mark-release':
          await this.mark({
            rollout: this.storeKey,
            version: effect.version,
            verdict: effect.verdict,
            reason: effect.reason,
            at: this.deps.clock.now(),
          });
          break;
        case 'record':
          try {
            this.deps.decisions.record(
              this.storeKey,
              { at: effect.at, decision: effect.decision },
              record.state,
            );
          } catch (error) {
            this.deps.logger.warn({ err: error, rollout: this.storeKey }, 'a decision could not be recorded');
          }
          break;
      }
    }
  }

  private async assign(target: string, version: string | null): Promise<void> {
    this.unsent.delete(target);
    try {
      await this.deps.driver.assign(target, version, this.loaded?.record?.state.direction ?? 'forward');
    } catch (error) {
      // A newer assignment for the target replaces this one before the retry.
      if (!this.unsent.has(target)) this.unsent.set(target, version);
      this.deps.logger.warn(
        { err: error, rollout: this.storeKey, target, release: version },
        'a target could not be told its release; tried again at the next tick',
      );
    }
  }

  private async mark(verdict: ReleaseVerdict): Promise<void> {
    try {
      await this.deps.verdicts.mark(verdict);
    } catch (error) {
      this.unmarked.push(verdict);
      this.deps.logger.warn(
        { err: error, rollout: this.storeKey, release: verdict.version },
        'a release verdict could not be recorded; tried again at the next tick',
      );
    }
  }

  /**
   * Asks a controller in the background; its answer (or why there is none) comes back as an
   * event. A question already under way, or already past its deadline (the engine fails it by
   * itself), is not asked again.
   */
  private ask(question: ControllerQuestion, endpoints: ControllerEndpoints): void {
    if (this.asking.has(question.id) || question.deadline <= this.deps.clock.now()) return;
    const call = new AbortController();
    this.asking.set(question.id, call);
    const url = endpoints[question.controller];
    const asker = this.deps.ask ?? askController;
    const answer = Promise.resolve().then(() => {
      if (url === undefined)
        throw new FerryError(
          'FERRY_E_CONTROLLER_FAILED',
          `no URL is configured for the ${question.controller} controller`,
          { where: this.storeKey, expected: `a URL for the ${question.controller} controller` },
        );
      return asker(url, question, { clock: this.deps.clock, signal: call.signal });
    });
    answer
      .then(
        (answered): RolloutEvent => ({ type: 'controller-answered', id: question.id, answer: answered }),
        (error: unknown): RolloutEvent => ({
          type: 'controller-failed',
          id: question.id,
          error: messageOf(error),
        }),
      )
      .then((event) => {
        this.asking.delete(question.id);
        if (this.closed) return;
        return this.enqueue(() =>
          this.commitAndRun((loaded, now) => this.stepped(loaded, event, now, false)),
        );
      })
      .catch((error: unknown) =>
        this.deps.logger.error(
          { err: error, rollout: this.storeKey, call: question.id },
          "a controller's answer could not be stepped",
        ),
      );
  }

  /**
   * Every tick: what failed to go out is tried again, then the engine is given the time. One at a
   * time: a slow step does not pile ticks up behind it.
   */
  private tick(): void {
    if (this.ticking || this.closed) return;
    this.ticking = true;
    this.enqueue(async () => {
      await this.retry();
      return this.commitAndRun((loaded, now) => this.stepped(loaded, { type: 'tick' }, now, false));
    })
      .catch((error: unknown) =>
        this.deps.logger.error({ err: error, rollout: this.storeKey }, 'a tick of the rollout failed'),
      )
      .finally(() => (this.ticking = false));
  }

  private async retry(): Promise<void> {
    for (const [target, version] of [...this.unsent]) await this.assign(target, version);
    const unmarked = this.unmarked;
    this.unmarked = [];
    for (const verdict of unmarked) await this.mark(verdict);
  }

  /** Queues work behind every event before it: one step at a time. */
  private enqueue<T>(work: () => Promise<T>): Promise<T> {
    if (this.closed)
      return Promise.reject(
        new FerryError('FERRY_E_ILLEGAL_STATE', `the rollout run of ${this.storeKey} is closed`, {
          where: this.storeKey,
        }),
      );
    const next = this.queue.then(work);
    this.queue = next.catch(() => undefined);
    return next;
  }
}

function isRolloutStart(effect: RolloutEffect): boolean {
  return effect.type === 'record' && effect.decision.kind === 'rollout-started';
}
