import type { TrafficWindow } from '../../engine/types.js';
import type { AppReport } from '../../protocol/report.js';

interface Window {
  epoch: string | null;
  start: Map<string, { requests: number; errors: number }>;
  openedAt: number;
}

/**
 * The canary analysis windows, kept by the control plane from the hosts' reports: a window is the
 * route's cumulative counters less those at its opening, per release; when the router's counters
 * start afresh (a new epoch) the window opens again from zero rather than going negative. The
 * canary analysis and `ferry status` read the same window.
 */
export class TrafficWindows {
  private readonly windows = new Map<string, Window>();

  constructor(private readonly now: () => number) {}

  /** Opens the window of `key` (an app on a host) at the counters of `report`. */
  open(key: string, report: AppReport): void {
    this.windows.set(key, {
      epoch: report.route?.epoch ?? null,
      start: countersOf(report),
      openedAt: this.now(),
    });
  }

  /** The window's counts of `version` so far; zero when no window is open or the route is unread. */
  count(key: string, report: AppReport, version: string): TrafficWindow {
    const window = this.current(key, report);
    if (window === undefined || report.route === null) return { requests: 0, errors: 0 };
    const now = countersOf(report).get(version) ?? { requests: 0, errors: 0 };
    const start = window.start.get(version) ?? { requests: 0, errors: 0 };
    return {
      requests: Math.max(0, now.requests - start.requests),
      errors: Math.max(0, now.errors - start.errors),
    };
  }

  /** When the window of `key` opened (ms since the epoch); null when none is open. */
  openedAt(key: string, report: AppReport | undefined): number | null {
    const window = report === undefined ? this.windows.get(key) : this.current(key, report);
    return window?.openedAt ?? null;
  }

  private current(key: string, report: AppReport): Window | undefined {
    const window = this.windows.get(key);
    if (window === undefined || report.route === null) return window;
    if (report.route.epoch !== window.epoch) {
      // The router's counters started afresh (a new keeper after a crash): so does the window.
      window.epoch = report.route.epoch;
      window.start = new Map();
      window.openedAt = this.now();
    }
    return window;
  }
}

function countersOf(report: AppReport): Map<string, { requests: number; errors: number }> {
  return new Map(
    (report.route?.releases ?? []).map((r) => [r.version, { requests: r.requests, errors: r.errors }]),
  );
}
