import type { OutcomeCounts, OutcomeReading } from '../engine/served-report.js';
import type { TrafficWindow } from '../engine/types.js';
import type { RouterClient } from '../router/client.js';
import type { RouterStats } from '../router/types.js';
import { toOutcomeCounts } from './request-outcomes.js';

/** Requests and errors per release since the window opened, read from the router's counters. */
export interface WindowCounts {
  count(version: string): TrafficWindow;
}

/**
 * The router's counters of one app's route, as the canary analysis and the served-request report
 * read them: an analysis window (the cumulative counters less those at its start, reopened when the
 * router's counters start afresh) and the request outcomes.
 */
export class RouteCounters {
  private windowStart = new Map<string, number>();
  private windowEpoch: string | undefined;
  /** When the analysis window opened (ms since the epoch); null before the first one. */
  private windowOpened: number | null = null;

  constructor(
    private readonly router: RouterClient,
    private readonly routeKey: string,
    private readonly now: () => number,
  ) {}

  get openedAt(): number | null {
    return this.windowOpened;
  }

  /** Starts a new analysis window: the router's counters for the app are remembered as they are now. */
  async openWindow(): Promise<void> {
    const { epoch, counters } = await this.releaseCounters();
    this.windowStart = counters;
    this.windowEpoch = epoch;
    this.windowOpened = this.now();
  }

  /** The router's counters less the window's start, per release. */
  async window(): Promise<WindowCounts> {
    const { epoch, counters } = await this.releaseCounters();
    if (epoch !== this.windowEpoch) {
      // The router's counters started afresh (a new keeper after a crash): so does the window.
      this.windowStart = new Map();
      this.windowEpoch = epoch;
      this.windowOpened = this.now();
    }
    const since = (key: string) => Math.max(0, (counters.get(key) ?? 0) - (this.windowStart.get(key) ?? 0));
    return { count: (version) => ({ requests: since(version), errors: since(`${version}#errors`) }) };
  }

  /** The router's cumulative request outcomes of this route, with the router's counter epoch. */
  async readOutcomes(): Promise<OutcomeReading> {
    const stats = await this.router.stats();
    const route = Object.hasOwn(stats.routes, this.routeKey) ? stats.routes[this.routeKey] : undefined;
    return { epoch: stats.epoch ?? null, counts: toOutcomeCounts(route?.outcomes) };
  }

  /**
   * The route's cumulative requests and errors per release and its request outcomes, with the
   * router's counter epoch (what a host's report carries), from one reading of the router.
   */
  async cumulative(): Promise<{
    epoch: string | null;
    releases: Array<{ version: string; requests: number; errors: number }>;
    outcomes: OutcomeCounts;
  }> {
    const stats = await this.router.stats();
    const { epoch, counters } = this.countersOf(stats);
    const releases = [...counters.keys()]
      .filter((key) => !key.endsWith('#errors'))
      .map((version) => ({
        version,
        requests: counters.get(version) ?? 0,
        errors: counters.get(`${version}#errors`) ?? 0,
      }));
    const route = Object.hasOwn(stats.routes, this.routeKey) ? stats.routes[this.routeKey] : undefined;
    return { epoch: epoch ?? null, releases, outcomes: toOutcomeCounts(route?.outcomes) };
  }

  private async releaseCounters(): Promise<{ epoch: string | undefined; counters: Map<string, number> }> {
    return this.countersOf(await this.router.stats());
  }

  private countersOf(stats: RouterStats): { epoch: string | undefined; counters: Map<string, number> } {
    const counters = new Map<string, number>();
    const route = Object.hasOwn(stats.routes, this.routeKey) ? stats.routes[this.routeKey] : undefined;
    for (const backend of route?.backends ?? []) {
      const add = (key: string, n: number) => counters.set(key, (counters.get(key) ?? 0) + n);
      add(backend.release, backend.requests);
      add(`${backend.release}#errors`, backend.responses['5xx'] + backend.errors);
    }
    return { epoch: stats.epoch, counters };
  }
}
