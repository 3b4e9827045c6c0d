import {
  endServedReport,
  isSameStep,
  openServedReport,
  recordReading,
  stepKeyOf,
  type OutcomeReading,
  type ServedReport,
  type ServedReportRecord,
  type StepKey,
} from '../engine/served-report.js';
import type { DeploymentState } from '../engine/types.js';
import { messageOf } from '../errors/ferry-error.js';
import { sleep, type Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import type { Store } from '../store/store.js';
import type { EffectPort } from './effects.js';

/** How often a running deployment's report reads the router's counters between step ends. */
export const READING_INTERVAL_MS = 1_000;
/** How long a deployment's end waits for the report's last reading before it is announced. */
const LAST_READING_WAIT_MS = 3_000;

export interface ServedTallyDeps {
  readonly store: Pick<Store, 'getServedReport' | 'saveServedReport'>;
  readonly effects: Pick<EffectPort, 'readOutcomes'>;
  readonly logger: Logger;
  readonly clock: Clock;
}

/**
 * Keeps one deployment's served-request report: reads the router's counters at the start, when a
 * step ends, every READING_INTERVAL_MS in between and at the end, folds each reading into the report
 * (the pure rules are in engine/served-report.ts) and persists it with the deployment. Readings run
 * one at a time, beside the deployment and never in its way: a router that cannot be read leaves an
 * error in the report, not a stuck deployment.
 */
export class ServedTally {
  private record: ServedReportRecord | null = null;
  private work: Promise<void> = Promise.resolve();
  /** A periodic reading is queued or under way: another one would only pile up behind it. */
  private periodicQueued = false;
  private lastReadingAt = Number.NEGATIVE_INFINITY;

  private readonly id: string;

  /** `deployment`: any state of it (its id, app and environment never change). */
  constructor(
    private readonly deployment: DeploymentState,
    private readonly deps: ServedTallyDeps,
  ) {
    this.id = deployment.id;
  }

  /** The report so far; null before it was opened. */
  get report(): ServedReport | null {
    return this.record?.report ?? null;
  }

  /**
   * Opens the report at the deployment's start, or takes back the one persisted before a daemon
   * restart (the router counted on meanwhile: the next reading adds it), and reads the counters.
   */
  start(state: DeploymentState): Promise<void> {
    return this.enqueue(async () => {
      const saved = await this.deps.store.getServedReport(this.id).catch((error: unknown) => {
        this.deps.logger.warn({ err: error, deployment: this.id }, 'could not load the served report');
        return undefined;
      });
      this.record = saved ?? openServedReport(this.deps.clock.now(), stepKeyOf(state));
      await this.read(stepKeyOf(state));
    });
  }

  /**
   * The deployment is in `state` now: when it moved to another step, the counts so far are read
   * for the step that ended; otherwise a reading is taken if the last one is old enough.
   */
  observe(state: DeploymentState): void {
    const open = this.record?.report.steps.at(-1);
    const key = stepKeyOf(state);
    const moved = open !== undefined && !isSameStep(open, key);
    const due = this.deps.clock.now() - this.lastReadingAt >= READING_INTERVAL_MS;
    if (moved) {
      void this.enqueue(() => this.read(key));
      return;
    }
    if (!due || this.periodicQueued) return;
    this.periodicQueued = true;
    void this.enqueue(() => this.read(key).finally(() => (this.periodicQueued = false)));
  }

  /**
   * The deployment ended: a last reading, then the report is complete. Waits for it at most
   * LAST_READING_WAIT_MS (the router may not answer), so the end is announced in any case.
   */
  async finish(): Promise<void> {
    const done = this.enqueue(async () => {
      if (this.record === null) return;
      const open = this.record.report.steps.at(-1);
      if (open !== undefined) await this.read(open, false);
      this.record = endServedReport(this.record, this.deps.clock.now());
      await this.save();
    });
    const waited = new AbortController();
    await Promise.race([
      done,
      sleep(this.deps.clock, LAST_READING_WAIT_MS, waited.signal).catch(() => undefined),
    ]);
    waited.abort();
  }

  private async read(key: StepKey, save = true): Promise<void> {
    if (this.record === null) return;
    const at = this.deps.clock.now();
    const reading = await this.readOutcomes();
    this.record = recordReading(this.record, reading, at, key);
    this.lastReadingAt = at;
    if (save) await this.save();
  }

  private async readOutcomes(): Promise<OutcomeReading | string> {
    try {
      return await this.deps.effects.readOutcomes(this.deployment);
    } catch (error) {
      return `the router's counters could not be read: ${messageOf(error)}`;
    }
  }

  private async save(): Promise<void> {
    if (this.record === null) return;
    await this.deps.store
      .saveServedReport(this.id, this.record)
      .catch((error: unknown) =>
        this.deps.logger.warn({ err: error, deployment: this.id }, 'could not save the served report'),
      );
  }

  private enqueue(job: () => Promise<void>): Promise<void> {
    const next = this.work.then(job);
    this.work = next.catch((error: unknown) =>
      this.deps.logger.warn({ err: error, deployment: this.id }, 'served report reading failed'),
    );
    return this.work;
  }
}
