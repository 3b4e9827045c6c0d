import type { AppReport } from '../../protocol/report.js';
import { servingInstances } from './observation.js';
import type { TrafficWindows } from './traffic-windows.js';

/** One canary step's window so far, per release, as `ferry status` shows it. */
export interface LiveCounters {
  /** When the window opened: the step's start, or a router restart since (ms since the epoch). */
  readonly since: number | null;
  /** Why the router's counters could not be read (the counts are null then); null when they were. */
  readonly error: string | null;
  readonly releases: ReadonlyArray<{
    readonly version: string;
    /** Requests the router sent to the release since the window opened. */
    readonly requests: number | null;
    /** Of them, 5xx responses plus connection errors. */
    readonly errors: number | null;
    readonly healthy: number;
    /** Its serving (not retiring) instances. */
    readonly instances: number;
  }>;
}

/**
 * The running canary step's window per release, from the host's newest report and the window the
 * canary analysis judges (the same one): live while the step runs, without polling of its own.
 */
export function liveCounters(
  report: AppReport | undefined,
  windows: TrafficWindows,
  key: string,
  versions: readonly string[],
): LiveCounters {
  const readable = report !== undefined && report.route !== null;
  return {
    // When the window opened does not depend on this reading: only the counts do.
    since: windows.openedAt(key, readable ? report : undefined),
    error: readable
      ? null
      : "the host has not reported the router's counters (the router could not be read, or no report yet)",
    releases: versions.map((version) => {
      const mine = report ? servingInstances(report, version) : [];
      const counts = readable ? windows.count(key, report, version) : { requests: null, errors: null };
      return {
        version,
        ...counts,
        healthy: mine.filter((i) => i.health === 'healthy').length,
        instances: mine.length,
      };
    }),
  };
}
