import { isServing } from './target-state.js';
import type { LogEntry, PendingCall, RolloutState, RolloutTarget } from './types.js';
import type { RolloutDecision, RolloutEffect, RolloutStepResult } from './events.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** How many decisions the state keeps for `ferry status` (the runtime's event log keeps them all). */
export const LOG_LIMIT = 50;
/** Names a decision keeps in the state's log; the record effect carries them all. */
const LOG_NAMES = 10;

/**
 * One step's working copy of a rollout state. The step's parts change it in place; the state it
 * came from is never changed (targets are copied on write). Lookups by target name go through a
 * Map built for this step: names come from outside, and `__proto__` is a valid host name.
 */
export class Draft {
  readonly s: Mutable<Omit<RolloutState, 'targets' | 'lastSeen' | 'calls' | 'log'>>;
  targets: RolloutTarget[];
  /** The targets' last report times, index by index (see RolloutState.lastSeen). */
  seen: (number | null)[];
  /** Pending controller calls (pushed to, and filtered, during the step). */
  calls: PendingCall[];
  readonly effects: RolloutEffect[] = [];
  private readonly entries: LogEntry[] = [];
  private index: Map<string, number> | null = null;
  /** Where each target's assign effect of this step is, and the ones a later one replaced. */
  private told: Map<string, number> | null = null;
  private superseded: Set<number> | null = null;
  /** Tell every target its release at the end of the step (after a restart of the runtime). */
  private retellAll = false;
  /** Targets that joined in this step, with the release they joined with. */
  private readonly joined: { names: readonly string[]; version: string }[] = [];

  constructor(
    private readonly base: RolloutState,
    readonly now: number,
  ) {
    const { targets, lastSeen, calls, log: _log, ...rest } = base;
    this.s = { ...rest };
    this.targets = targets.slice();
    this.seen = lastSeen.slice();
    this.calls = calls.slice();
  }

  get options(): RolloutState['options'] {
    return this.s.options;
  }

  /** The index of the target of this name, or -1. */
  find(name: string): number {
    if (this.targets.length === 0) return -1;
    if (this.index === null) {
      this.index = new Map();
      for (let i = 0; i < this.targets.length; i++) this.index.set(this.targets[i]!.name, i);
    }
    return this.index.get(name) ?? -1;
  }

  at(i: number): RolloutTarget {
    return this.targets[i]!;
  }

  /** Puts a whole new target in place (the hot path: no spread). */
  put(i: number, t: RolloutTarget): void {
    this.targets[i] = t;
  }

  update(i: number, patch: Partial<RolloutTarget>): RolloutTarget {
    const next = { ...this.targets[i]!, ...patch };
    this.targets[i] = next;
    return next;
  }

  /**
   * Adds new targets, with their last report times (sorted by name, none known already), keeping
   * the list sorted by name: a merge, both are sorted.
   */
  insert(added: readonly RolloutTarget[], addedSeen: readonly (number | null)[]): void {
    if (added.length === 0) return;
    const size = this.targets.length + added.length;
    const targets = new Array<RolloutTarget>(size);
    const seen = new Array<number | null>(size);
    let i = 0;
    let j = 0;
    for (let k = 0; k < size; k++) {
      if (
        j >= added.length ||
        (i < this.targets.length && compareNames(this.targets[i]!.name, added[j]!.name) <= 0)
      ) {
        targets[k] = this.targets[i]!;
        seen[k] = this.seen[i] ?? null;
        i++;
      } else {
        targets[k] = added[j]!;
        seen[k] = addedSeen[j] ?? null;
        j++;
      }
    }
    this.targets = targets;
    this.seen = seen;
    this.index = null;
  }

  /** Drops the targets `drop` says so of (given each one's last report time). */
  remove(drop: (t: RolloutTarget, lastSeen: number | null) => boolean): void {
    const targets: RolloutTarget[] = [];
    const seen: (number | null)[] = [];
    for (let i = 0; i < this.targets.length; i++) {
      if (drop(this.targets[i]!, this.seen[i] ?? null)) continue;
      targets.push(this.targets[i]!);
      seen.push(this.seen[i] ?? null);
    }
    this.targets = targets;
    this.seen = seen;
    this.index = null;
  }

  /**
   * Tells a target to run a release: it is in flight on it from now (already soaking when it serves
   * it healthily now: the soak counts from the assignment).
   */
  assign(i: number, version: string): void {
    const t = this.at(i);
    const serving = isServing({ ...t, assigned: version });
    this.update(i, {
      assigned: version,
      assignedAt: this.now,
      healthySince: serving ? this.now : null,
      status: serving ? 'soaking' : 'converging',
      failure: null,
    });
    this.tell(t.name, version);
  }

  /**
   * The assign effect: a target is told one thing per step at most (a later one replaces an
   * earlier one). Targets that joined in this step are told their release when it ends (unless
   * told another): joining, a target gets last known good, and its batch may give it the release
   * in the same step: it is told the release only.
   */
  tell(target: string, version: string | null): void {
    this.told ??= new Map();
    const earlier = this.told.get(target);
    if (earlier !== undefined) (this.superseded ??= new Set()).add(earlier);
    this.told.set(target, this.effects.length);
    this.effects.push({ type: 'assign', target, version });
  }

  /** Targets that joined: told their release at the end of the step, unless told another one. */
  tellWhenDone(targets: readonly string[], version: string): void {
    this.joined.push({ names: targets, version });
  }

  /** At the end of the step, every target not told anything in it is told its release again. */
  retellEveryTarget(): void {
    this.retellAll = true;
  }

  record(decision: RolloutDecision): void {
    this.effects.push({ type: 'record', at: this.now, decision });
    this.entries.push({ at: this.now, decision: forLog(decision) });
  }

  emit(effect: RolloutEffect): void {
    this.effects.push(effect);
  }

  /** A fresh controller call id, unique within this state. */
  nextCallId(): string {
    const id = `c${this.s.nextCall}`;
    this.s.nextCall += 1;
    return id;
  }

  /** Tells the targets that joined in this step (or, after a restart, all) their release. */
  private tellTheRest(): void {
    const told = this.told;
    if (!this.retellAll) {
      for (const { names, version } of this.joined)
        for (const target of names)
          if (!told?.has(target)) this.effects.push({ type: 'assign', target, version });
      return;
    }
    for (const t of this.targets) {
      if (told?.has(t.name)) continue;
      if (t.status === 'removed') this.effects.push({ type: 'assign', target: t.name, version: null });
      else if (t.assigned !== null)
        this.effects.push({ type: 'assign', target: t.name, version: t.assigned });
    }
  }

  finish(): RolloutStepResult {
    this.tellTheRest();
    const log =
      this.entries.length === 0 ? this.base.log : [...this.base.log, ...this.entries].slice(-LOG_LIMIT);
    const state: RolloutState = {
      ...this.s,
      targets: this.targets,
      lastSeen: this.seen,
      calls: this.calls,
      log,
      updatedAt: this.now,
    };
    const superseded = this.superseded;
    const effects = superseded === null ? this.effects : this.effects.filter((_, k) => !superseded.has(k));
    return { state, effects };
  }
}

/** Code unit order: stable, locale-free, and cheap for 100,000 names. */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A decision as the state's log keeps it: long target lists cut to their first names. */
function forLog(decision: RolloutDecision): RolloutDecision {
  if (!('targets' in decision) || !Array.isArray(decision.targets)) return decision;
  if (decision.targets.length <= LOG_NAMES) return decision;
  return { ...decision, targets: decision.targets.slice(0, LOG_NAMES) } as RolloutDecision;
}
