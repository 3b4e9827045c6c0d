import type { Clock, TimerHandle } from '../../lib/clock.js';
import type { TargetReport } from '../../rollout/index.js';
import type { RolloutKey } from '../rollouts/rollout-record.js';

/**
 * Reports of one rollout's hosts arriving within this long are stepped together: fifty hosts
 * reporting in a burst cost one step (one write), while a batch waits at most this long more.
 */
export const REPORT_BATCH_MS = 25;

/**
 * Target reports gathered per rollout, the newest per host, and handed to `step` together once
 * the batch's time is up: one step (and one write) for many hosts.
 */
export class ReportBatches {
  private readonly pending = new Map<string, { key: RolloutKey; reports: Map<string, TargetReport> }>();
  private timer: TimerHandle | null = null;

  constructor(
    private readonly clock: Clock,
    private readonly step: (key: RolloutKey, reports: TargetReport[]) => void,
    private readonly batchMs = REPORT_BATCH_MS,
  ) {}

  add(key: RolloutKey, report: TargetReport): void {
    const storeKey = key.join('\u0000');
    let entry = this.pending.get(storeKey);
    if (entry === undefined) this.pending.set(storeKey, (entry = { key, reports: new Map() }));
    entry.reports.set(report.name, report);
    this.timer ??= this.clock.setTimeout(() => this.flush(), this.batchMs);
  }

  /** Drops what waits: nothing is stepped any more. */
  close(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    this.pending.clear();
  }

  private flush(): void {
    this.timer = null;
    const batches = [...this.pending.values()];
    this.pending.clear();
    for (const { key, reports } of batches) this.step(key, [...reports.values()]);
  }
}
