/**
 * Pure: the router's counters as Prometheus wants them, per app, environment and release, never
 * going backwards. The router counts per backend (instance), and forgets a backend once it is
 * retired and drained, and starts afresh in a new epoch (a keeper started without a predecessor);
 * so totals are kept here, as the sum of the increases seen between two readings.
 */
import type { RouteTotals } from '../protocol/report.js';
import type { LatencyHistogram, RouterStats } from '../router/types.js';

export const RESPONSE_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;
export type ResponseClass = (typeof RESPONSE_CLASSES)[number];

/** One release of one app in one environment, as the router served it. */
export interface ReleaseTotals {
  readonly app: string;
  readonly env: string;
  readonly release: string;
  /** Responses relayed from its instances, by status class (cumulative). */
  readonly responses: Record<ResponseClass, number>;
  /** Connection errors, timeouts and resets (cumulative). */
  upstreamErrors: number;
  /** Durations of the relayed responses (cumulative); null until a router that measures them is read. */
  latency: LatencyHistogram | null;
  /** Requests in flight at the last reading. */
  inFlight: number;
  /** When a reading last listed one of its instances (ms since the epoch). */
  lastSeen: number;
}

/** Requests held (no usable backend) per app and environment at the last reading. */
export interface RouteGauges {
  readonly app: string;
  readonly env: string;
  held: number;
  connections: number;
}

/** How long a release's totals are kept after its last instance left the router. */
export const RELEASE_RETENTION_MS = 60 * 60_000;

interface BackendReading {
  readonly responses: Record<ResponseClass, number>;
  readonly errors: number;
  readonly latency: LatencyHistogram | undefined;
}

export class RouterTotals {
  private epoch: string | undefined;
  private readonly last = new Map<string, BackendReading>();
  private readonly releases = new Map<string, ReleaseTotals>();
  private readonly routes = new Map<string, RouteGauges>();

  /**
   * Adds what the router counted since the last reading (any reading will do). Releases no reading
   * listed for RELEASE_RETENTION_MS are forgotten: a daemon deploying for months keeps no series
   * of every release it ever ran.
   */
  observe(stats: RouterStats, now: number): void {
    if (stats.epoch !== this.epoch) {
      // A fresh keeper's counters start from zero: everything it reports is new.
      this.last.clear();
      this.epoch = stats.epoch;
    }
    const seen = new Set<string>();
    const inFlight = new Map<string, number>();
    for (const [routeName, route] of Object.entries(stats.routes)) {
      const scope = splitRouteName(routeName);
      if (scope === null) continue;
      const gauges = this.routeGauges(scope.app, scope.env);
      gauges.held = route.held;
      gauges.connections = route.connections ?? 0;
      for (const backend of route.backends) {
        const key = `${routeName}\0${backend.id}`;
        seen.add(key);
        const totals = this.releaseTotals(scope.app, scope.env, backend.release);
        totals.lastSeen = now;
        inFlight.set(totalsKey(totals), (inFlight.get(totalsKey(totals)) ?? 0) + backend.inFlight);
        const reading: BackendReading = {
          responses: { ...backend.responses },
          errors: backend.errors,
          latency: backend.latency,
        };
        addIncrease(totals, this.last.get(key), reading);
        this.last.set(key, reading);
      }
    }
    // Backends the router forgot: their counts are in the totals already.
    for (const key of [...this.last.keys()]) if (!seen.has(key)) this.last.delete(key);
    for (const [key, totals] of this.releases) {
      totals.inFlight = inFlight.get(key) ?? 0;
      if (now - totals.lastSeen > RELEASE_RETENTION_MS) this.releases.delete(key);
    }
    for (const [key, gauges] of this.routes)
      if (!Object.hasOwn(stats.routes, `${gauges.app}.${gauges.env}`)) this.routes.delete(key);
  }

  /** Every release seen so far, with its totals. */
  releasesSeen(): readonly ReleaseTotals[] {
    return [...this.releases.values()];
  }

  routesSeen(): readonly RouteGauges[] {
    return [...this.routes.values()];
  }

  /** One route's totals as a host reports them; undefined before a reading listed it. */
  routeTotals(app: string, env: string): RouteTotals | undefined {
    const gauges = this.routes.get(`${app}\0${env}`);
    if (gauges === undefined) return undefined;
    const releases = [...this.releases.values()]
      .filter((r) => r.app === app && r.env === env)
      .map((r) => ({
        version: r.release,
        responses: { ...r.responses },
        upstreamErrors: r.upstreamErrors,
        latency:
          r.latency === null
            ? null
            : { le: [...r.latency.le], counts: [...r.latency.counts], sum: r.latency.sum },
        inFlight: r.inFlight,
      }));
    return { releases, held: gauges.held, connections: gauges.connections };
  }

  private releaseTotals(app: string, env: string, release: string): ReleaseTotals {
    const key = `${app}\0${env}\0${release}`;
    let totals = this.releases.get(key);
    if (totals === undefined) {
      totals = {
        app,
        env,
        release,
        responses: { '1xx': 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 },
        upstreamErrors: 0,
        latency: null,
        inFlight: 0,
        lastSeen: 0,
      };
      this.releases.set(key, totals);
    }
    return totals;
  }

  private routeGauges(app: string, env: string): RouteGauges {
    const key = `${app}\0${env}`;
    let gauges = this.routes.get(key);
    if (gauges === undefined) {
      gauges = { app, env, held: 0, connections: 0 };
      this.routes.set(key, gauges);
    }
    return gauges;
  }
}

function totalsKey(totals: ReleaseTotals): string {
  return `${totals.app}\0${totals.env}\0${totals.release}`;
}

/** Route names are `<app>.<env>`; neither name may contain a dot. */
function splitRouteName(name: string): { app: string; env: string } | null {
  const dot = name.indexOf('.');
  if (dot <= 0 || dot === name.length - 1) return null;
  return { app: name.slice(0, dot), env: name.slice(dot + 1) };
}

/** Adds the increase from `before` to `now` (all of `now` for a backend not read before). */
function addIncrease(totals: ReleaseTotals, before: BackendReading | undefined, now: BackendReading): void {
  const increase = (a: number, b: number) => (b >= a ? b - a : b);
  for (const key of RESPONSE_CLASSES)
    totals.responses[key] += increase(before?.responses[key] ?? 0, now.responses[key]);
  totals.upstreamErrors += increase(before?.errors ?? 0, now.errors);
  const latency = now.latency;
  if (latency === undefined) return;
  const previous = before?.latency;
  const comparable =
    previous !== undefined &&
    previous.le.length === latency.le.length &&
    previous.le.every((bound, i) => bound === latency.le[i]);
  const base = totals.latency;
  const sameBuckets =
    base !== null && base.le.length === latency.le.length && base.le.every((b, i) => b === latency.le[i]);
  const target: LatencyHistogram = sameBuckets
    ? base
    : { le: [...latency.le], counts: new Array<number>(latency.counts.length).fill(0), sum: 0 };
  latency.counts.forEach((count, i) => {
    const was = comparable ? (previous.counts[i] ?? 0) : 0;
    target.counts[i] = (target.counts[i] ?? 0) + increase(was, count);
  });
  target.sum += comparable && latency.sum >= previous.sum ? latency.sum - previous.sum : latency.sum;
  totals.latency = target;
}
