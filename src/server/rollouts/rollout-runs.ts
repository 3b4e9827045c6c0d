import { FerryError } from '../../errors/ferry-error.js';
import type { RolloutSeed } from '../../rollout/index.js';
import type { TargetDriver } from './ports.js';
import {
  parseRecord,
  rolloutKeyOf,
  rolloutStoreKey,
  type RolloutKey,
  type RolloutRecord,
} from './rollout-record.js';
import { RolloutRun, type RolloutRunDeps } from './rollout-run.js';

export interface RolloutRunsOptions extends Omit<RolloutRunDeps, 'driver'> {
  /**
   * The first segment of this registry's keys (`targets` for targets outside Ferry, `apps` for
   * Ferry's own): its rollouts are those under `/rollouts/<kind>/`.
   */
  readonly kind: string;
  /** What a new rollout of `key` (the segments after the kind) starts from. */
  readonly seed: (key: RolloutKey) => RolloutSeed;
  /** Who tells the targets of `key` their release. */
  readonly driver: (key: RolloutKey) => TargetDriver;
}

/** One rollout in the store, as listed. */
export interface ListedRollout {
  /** The segments after the kind. */
  readonly key: RolloutKey;
  readonly record: RolloutRecord;
}

/**
 * The rollout runs of one kind, one per key. Keys come from outside (names of namespaces,
 * entities, apps): runs are looked up in a Map by their store key, never as properties of an
 * object, so `__proto__` is a name like any other.
 */
export class RolloutRuns {
  private readonly runs = new Map<string, RolloutRun>();
  private closed = false;

  constructor(private readonly options: RolloutRunsOptions) {}

  /** Opens a run for every rollout of this kind in the store: each resumes (`recover`). */
  async start(): Promise<void> {
    const listed = await this.list();
    await Promise.all(listed.map(({ key }) => this.open(key).idle()));
  }

  /** The run of `key`, if one is open. */
  get(key: RolloutKey): RolloutRun | undefined {
    return this.runs.get(this.storeKey(key));
  }

  /** The run of `key`, opened (and started) if it was not: its rollout is created by its first event. */
  open(key: RolloutKey): RolloutRun {
    const storeKey = this.storeKey(key);
    const known = this.runs.get(storeKey);
    if (known !== undefined) return known;
    if (this.closed)
      throw new FerryError('FERRY_E_ILLEGAL_STATE', `the rollouts are closed; cannot open ${storeKey}`, {
        where: storeKey,
      });
    const { kind: _kind, seed, driver, ...deps } = this.options;
    const run = new RolloutRun([this.options.kind, ...key], seed(key), { ...deps, driver: driver(key) });
    this.runs.set(storeKey, run);
    run
      .start()
      .catch((error: unknown) =>
        this.options.logger.error({ err: error, rollout: storeKey }, 'the rollout could not resume'),
      );
    return run;
  }

  /**
   * The run of a rollout the store holds, opened if it was not (another server may have created
   * it); null when the store has none. Opens nothing for a key the store does not know.
   */
  async find(key: RolloutKey): Promise<RolloutRun | null> {
    const known = this.get(key);
    if (known !== undefined) return (await known.read()) === null ? null : known;
    return (await this.options.kv.get(this.storeKey(key))) === undefined ? null : this.open(key);
  }

  /** Every rollout of this kind as the store holds it now, in key order. */
  async list(): Promise<ListedRollout[]> {
    const prefix = `${rolloutStoreKey([this.options.kind])}/`;
    const { entries } = await this.options.kv.range(prefix);
    return entries.flatMap((entry) => {
      const key = rolloutKeyOf(entry.key);
      if (key === null || key[0] !== this.options.kind) return [];
      return [{ key: key.slice(1), record: parseRecord(entry.value, entry.key) }];
    });
  }

  /** Closes every run (each finishes the step under way). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.runs.values()].map((run) => run.close()));
  }

  private storeKey(key: RolloutKey): string {
    return rolloutStoreKey([this.options.kind, ...key]);
  }
}
