import type { Clock, TimerHandle } from '../lib/clock.js';
import {
  cpuPercent,
  processStartedAt,
  sampleProcess,
  systemUnits,
  type ProcessSample,
} from './process-usage.js';

/** An instance's process as the last sample saw it (what `ferry status` shows, as `pm2 ls` does). */
export interface ProcessUsage {
  readonly pid: number;
  /** When the process started (from /proc, so right for adopted ones too), ms since the epoch. */
  readonly startedAt: number | null;
  /** Percent of one CPU over the last sampling interval; null until a second sample. */
  readonly cpuPercent: number | null;
  /** Resident memory (RSS) in bytes. */
  readonly rssBytes: number;
  /** CPU time (user and system) since the process started, in seconds. */
  readonly cpuSeconds: number;
  /** When the sample was taken (the clock's time). */
  readonly sampledAt: number;
}

interface Sampled {
  readonly sample: ProcessSample;
  readonly usage: ProcessUsage;
}

/**
 * Samples the CPU time and memory of the supervised processes from /proc every interval of its
 * clock; the CPU share is the CPU time used between two samples over the clock time between them.
 * Only the instance's own process is sampled, not processes it started.
 */
export class UsageSampler {
  private readonly last = new Map<string, Sampled>();
  private timer: TimerHandle | null = null;

  constructor(
    private readonly clock: Clock,
    private readonly targets: () => Iterable<{ readonly id: string; readonly pid: number }>,
  ) {}

  /** Samples now and then every `intervalMs`; calling it again changes the interval. */
  start(intervalMs: number): void {
    this.stop();
    this.sampleAll();
    this.timer = this.clock.setInterval(() => this.sampleAll(), intervalMs);
  }

  stop(): void {
    if (this.timer !== null) this.clock.clearInterval(this.timer);
    this.timer = null;
  }

  /** The last sample of an instance's process; null when none was taken of the process it runs now. */
  usage(id: string, pid: number | null): ProcessUsage | null {
    const sampled = this.last.get(id);
    return sampled !== undefined && sampled.usage.pid === pid ? sampled.usage : null;
  }

  /** Takes one sample of every supervised process; forgets processes that are gone. */
  sampleAll(): void {
    const seen = new Set<string>();
    for (const { id, pid } of this.targets()) if (this.sampleOne(id, pid) !== null) seen.add(id);
    for (const id of [...this.last.keys()]) if (!seen.has(id)) this.last.delete(id);
  }

  /** Samples one process now; null when it is gone. */
  sampleOne(id: string, pid: number): ProcessUsage | null {
    const sample = sampleProcess(pid);
    if (sample === null) return null;
    const at = this.clock.now();
    const before = this.last.get(id);
    // Another process (a restart, a reused pid) starts its CPU share afresh.
    const same =
      before !== undefined && before.usage.pid === pid && before.sample.starttime === sample.starttime;
    const usage: ProcessUsage = {
      pid,
      startedAt: processStartedAt(sample.starttime),
      cpuPercent: same
        ? cpuPercent(before.sample, sample, at - before.usage.sampledAt, systemUnits().ticksPerSecond)
        : null,
      rssBytes: sample.rssBytes,
      cpuSeconds: sample.cpuTicks / systemUnits().ticksPerSecond,
      sampledAt: at,
    };
    this.last.set(id, { sample, usage });
    return usage;
  }
}
