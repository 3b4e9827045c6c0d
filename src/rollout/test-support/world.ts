import { createRollout } from '../create.js';
import { resolveRolloutOptions, type RolloutOptionsInput } from '../options.js';
import { step } from '../step.js';
import type { RolloutState } from '../types.js';
import type {
  ControllerQuestion,
  RolloutDecision,
  RolloutEffect,
  RolloutEvent,
  RolloutStepResult,
  TargetReport,
} from '../events.js';

/** A simulated host: it runs what it was last assigned, healthy unless its release is broken. */
export interface Host {
  version: string | null;
  healthy: boolean;
  /** It reports (false: it went silent). */
  reporting: boolean;
}

/**
 * A fleet with a fake clock for the rollout engine's tests: hosts follow their assignments at once
 * and report when asked; releases in `broken` run unhealthy. Every step's effects are kept.
 */
export class World {
  state: RolloutState;
  now = 0;
  readonly hosts = new Map<string, Host>();
  readonly broken = new Set<string>();
  readonly effects: RolloutEffect[] = [];
  last: readonly RolloutEffect[] = [];

  constructor(
    options: RolloutOptionsInput,
    names: readonly string[],
    lkg: string | null = 'v1',
    where: { app?: string; env?: string } = {},
  ) {
    this.state = createRollout(
      {
        app: where.app ?? 'web',
        env: where.env ?? 'production',
        options: resolveRolloutOptions(options),
        lkg,
      },
      0,
    );
    for (const name of names) this.hosts.set(name, { version: lkg, healthy: true, reporting: true });
  }

  /** Steps the engine at `at` (default: now) and lets the hosts follow their assignments. */
  send(event: RolloutEvent, at = this.now): RolloutStepResult {
    this.now = at;
    const out = step(this.state, event, this.now);
    this.state = out.state;
    this.last = out.effects;
    this.effects.push(...out.effects);
    for (const e of out.effects) {
      if (e.type !== 'assign') continue;
      const host = this.hosts.get(e.target);
      if (host) host.version = e.version;
    }
    return out;
  }

  /** Every reporting host reports now (after `ms` more on the clock). */
  report(ms = 0): RolloutStepResult {
    this.now += ms;
    const reports: TargetReport[] = [];
    for (const [name, h] of this.hosts) {
      if (!h.reporting) continue;
      reports.push({
        name,
        at: this.now,
        version: h.version,
        healthy: h.healthy && h.version !== null && !this.broken.has(h.version),
      });
    }
    return this.send({ type: 'reported', reports });
  }

  /** Reports every `every` ms for `ms`. */
  run(ms: number, every = 1_000): void {
    for (let t = 0; t < ms; t += every) this.report(every);
  }

  deploy(version: string, force = false, actor = 'ops'): RolloutStepResult {
    return this.send({ type: 'deploy', version, force, actor });
  }

  tick(ms = 0): RolloutStepResult {
    this.now += ms;
    return this.send({ type: 'tick' });
  }

  /** How many targets are assigned each release. */
  assignedCount(version: string | null): number {
    return this.state.targets.filter((t) => t.status !== 'removed' && t.assigned === version).length;
  }

  runningCount(version: string | null): number {
    return [...this.hosts.values()].filter((h) => h.version === version).length;
  }

  assignedTo(version: string): string[] {
    return this.state.targets.filter((t) => t.assigned === version).map((t) => t.name);
  }

  decisions<K extends RolloutDecision['kind']>(
    kind: K,
    from: readonly RolloutEffect[] = this.effects,
  ): Extract<RolloutDecision, { kind: K }>[] {
    return from.flatMap((e) =>
      e.type === 'record' && e.decision.kind === kind
        ? [e.decision as Extract<RolloutDecision, { kind: K }>]
        : [],
    );
  }

  questions(from: readonly RolloutEffect[] = this.effects): ControllerQuestion[] {
    return from.flatMap((e) => (e.type === 'ask-controller' ? [e.question] : []));
  }

  marks(from: readonly RolloutEffect[] = this.effects): string[] {
    return from.flatMap((e) => (e.type === 'mark-release' ? [`${e.version} ${e.verdict}`] : []));
  }
}

/** Names host-00, host-01, ... */
export function hostNames(n: number, prefix = 'host'): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(2, '0')}`);
}
