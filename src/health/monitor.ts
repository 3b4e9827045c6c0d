import { FerryError } from '../errors/ferry-error.js';
import { probe } from './probe.js';
import { initialHealth, nextHealth } from './thresholds.js';
import type { HealthSpec, HealthState, HealthStatus, ProbeResult, ProbeTarget } from './types.js';

export interface HealthMonitorOptions {
  readonly spec: HealthSpec;
  readonly target: ProbeTarget;
  /** When the instance started; the start period counts from here. */
  readonly startedAt: number;
  /** Called when the status changes, with the probe result that changed it. */
  readonly onChange: (status: HealthStatus, result: ProbeResult) => void;
  /** Called with every probe result. */
  readonly onResult?: (result: ProbeResult) => void;
}

/** idle: created; running: probing; stopped: for good (a stopped monitor is not restarted). */
export type HealthMonitorLifecycle = 'idle' | 'running' | 'stopped';

/**
 * Checks one instance continuously (not only during a deployment), one probe at a time: the next
 * probe starts `intervalMs` after the previous one finished, so a slow instance is never probed
 * twice at once. The first probe runs at once, so a quick starter is admitted early.
 */
export class HealthMonitor {
  private lifecycle: HealthMonitorLifecycle = 'idle';
  private health: HealthState;
  private timer: NodeJS.Timeout | null = null;
  private readonly abort = new AbortController();
  private last: ProbeResult | null = null;
  private lastBad: ProbeResult | null = null;

  constructor(private readonly opts: HealthMonitorOptions) {
    this.health = initialHealth(opts.startedAt);
  }

  get status(): HealthStatus {
    return this.health.status;
  }

  get lastResult(): ProbeResult | null {
    return this.last;
  }

  /** The latest failed probe: the evidence shown when an instance is not healthy. */
  get lastFailure(): ProbeResult | null {
    return this.lastBad;
  }

  start(): void {
    if (this.lifecycle !== 'idle')
      throw new FerryError(
        'FERRY_E_ILLEGAL_STATE',
        `the health monitor is ${this.lifecycle}; it cannot start`,
      );
    this.lifecycle = 'running';
    void this.check();
  }

  /** Stops probing; a probe under way is cancelled and its result ignored. Safe to call twice. */
  stop(): void {
    this.lifecycle = 'stopped';
    this.abort.abort();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private async check(): Promise<void> {
    this.timer = null;
    const { spec, target } = this.opts;
    const result = await probe(spec.check, target, spec.timeoutMs, this.abort.signal);
    if (this.lifecycle !== 'running') return;
    this.last = result;
    if (!result.ok) this.lastBad = result;
    const before = this.health.status;
    this.health = nextHealth(this.health, result, spec);
    // Scheduled before the callbacks, so that a throwing callback cannot end the checks.
    this.timer = setTimeout(() => void this.check(), spec.intervalMs);
    this.timer.unref();
    this.opts.onResult?.(result);
    if (this.health.status !== before) this.opts.onChange(this.health.status, result);
  }
}
