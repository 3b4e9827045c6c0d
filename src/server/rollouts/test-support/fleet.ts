import { FakeClock } from '../../../lib/clock.js';
import { silentLogger } from '../../../lib/logger.js';
import {
  resolveRolloutOptions,
  type RolloutDecision,
  type RolloutOptionsInput,
  type RolloutState,
  type TargetReport,
} from '../../../rollout/index.js';
import type { KvStore } from '../../../store/kv/kv.js';
import { openSqliteKvStore } from '../../../store/kv/sqlite-kv.js';
import type { ControllerAsker } from '../controller-client.js';
import { KvReleaseVerdicts } from '../kv-verdicts.js';
import type { TargetDriver } from '../ports.js';
import { RecentDecisions } from '../recent-decisions.js';
import { RolloutRun } from '../rollout-run.js';

/** A simulated target: it runs what it was last told, healthy unless its release is broken. */
export interface Host {
  version: string | null;
  healthy: boolean;
  reporting: boolean;
}

/**
 * Targets that follow their assignments (the run's TargetDriver) and report when asked, for the
 * runtime's tests. Every assignment is kept, with the store's record as it was when it arrived.
 */
export class Fleet implements TargetDriver {
  readonly hosts = new Map<string, Host>();
  readonly broken = new Set<string>();
  readonly assignments: { target: string; version: string | null }[] = [];
  /** Set by a test to look at the store when an assignment arrives. */
  onAssign: ((target: string, version: string | null) => Promise<void>) | null = null;

  constructor(names: readonly string[], version: string | null) {
    for (const name of names) this.hosts.set(name, { version, healthy: true, reporting: true });
  }

  async assign(target: string, version: string | null): Promise<void> {
    await this.onAssign?.(target, version);
    this.assignments.push({ target, version });
    const host = this.hosts.get(target);
    if (host) host.version = version;
  }

  /** What every reporting target says at `at`. */
  reports(at: number): TargetReport[] {
    const reports: TargetReport[] = [];
    for (const [name, h] of this.hosts) {
      if (!h.reporting) continue;
      reports.push({
        name,
        at,
        version: h.version,
        healthy: h.healthy && h.version !== null && !this.broken.has(h.version),
      });
    }
    return reports;
  }

  runningCount(version: string | null): number {
    return [...this.hosts.values()].filter((h) => h.version === version).length;
  }
}

export interface RunHarness {
  readonly clock: FakeClock;
  readonly kv: KvStore;
  readonly fleet: Fleet;
  readonly decisions: RecentDecisions;
  readonly verdicts: KvReleaseVerdicts;
  run: RolloutRun;
  /** Every target reports now (after `ms` more on the clock, its ticks run first). */
  report(ms?: number): Promise<RolloutState>;
  /** Reports every `every` ms for `ms`. */
  reportFor(ms: number, every?: number): Promise<RolloutState>;
  /** Moves the clock on; the run's ticks fall due and are stepped. */
  advance(ms: number): Promise<void>;
  /** A new run of the same rollout over the same store (a restarted server). */
  restart(): Promise<RolloutRun>;
  /** The decisions of the given kind, as the sink received them. */
  decided<K extends RolloutDecision['kind']>(kind: K): Extract<RolloutDecision, { kind: K }>[];
  close(): Promise<void>;
}

export interface HarnessOptions {
  readonly names: readonly string[];
  readonly options?: RolloutOptionsInput;
  readonly lkg?: string | null;
  readonly key?: readonly string[];
  readonly kv?: KvStore;
  readonly clock?: FakeClock;
  readonly ask?: ControllerAsker;
}

/** A RolloutRun over a SQLite store (in memory unless given one), a fake clock and a Fleet. */
export async function runHarness(opts: HarnessOptions): Promise<RunHarness> {
  const clock = opts.clock ?? new FakeClock(1_000_000);
  const kv = opts.kv ?? (await openSqliteKvStore(':memory:', { clock }));
  const lkg = opts.lkg === undefined ? 'v1' : opts.lkg;
  const fleet = new Fleet(opts.names, lkg);
  const decisions = new RecentDecisions({ clock, limit: 100_000 });
  const verdicts = new KvReleaseVerdicts(kv);
  const key = opts.key ?? ['test', 'web', 'production'];
  const open = () =>
    new RolloutRun(
      key,
      {
        app: key[1] ?? 'web',
        env: key[2] ?? 'production',
        options: resolveRolloutOptions(opts.options ?? {}),
        lkg,
      },
      {
        kv,
        clock,
        logger: silentLogger(),
        driver: fleet,
        verdicts,
        decisions,
        tickMs: 1_000,
        ...(opts.ask ? { ask: opts.ask } : {}),
      },
    );
  const harness: RunHarness = {
    clock,
    kv,
    fleet,
    decisions,
    verdicts,
    run: open(),
    async advance(ms) {
      await clock.advance(ms);
      await harness.run.idle();
    },
    async report(ms = 0) {
      await harness.advance(ms);
      return harness.run.report(fleet.reports(clock.now()));
    },
    async reportFor(ms, every = 1_000) {
      let state = harness.run.current!;
      for (let t = 0; t < ms; t += every) state = await harness.report(every);
      return state;
    },
    async restart() {
      await harness.run.close();
      harness.run = open();
      await harness.run.start();
      return harness.run;
    },
    decided(kind) {
      return decisions
        .recent(harness.run.storeKey)
        .flatMap((e) =>
          e.decision.kind === kind ? [e.decision as Extract<RolloutDecision, { kind: typeof kind }>] : [],
        );
    },
    async close() {
      await harness.run.close();
      if (opts.kv === undefined) await kv.close();
    },
  };
  await harness.run.start();
  return harness;
}
