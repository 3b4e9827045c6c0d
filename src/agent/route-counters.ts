import type { OutcomeCounts } from '../engine/served-report.js';
import type { RouterClient } from '../router/client.js';
import type { RouterStats } from '../router/types.js';
import { toOutcomeCounts } from './request-outcomes.js';

/**
 * The router's counters of one app's route as the host reports them: cumulative per release, with
 * the request outcomes and the router's counter epoch. The control plane makes the canary analysis
 * window of them (src/runtime/desired/traffic-windows.ts).
 */
export class RouteCounters {
  constructor(
    private readonly router: RouterClient,
    private readonly routeKey: string,
  ) {}

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
