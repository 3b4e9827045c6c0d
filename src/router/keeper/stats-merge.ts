/**
 * Pure: the router's counters as one, from the counters of each worker and those of workers that
 * are gone. Counters are cumulative per backend id; the daemon takes differences, so they must
 * never go backwards when a worker dies: its last counts are kept ("departed") and added in.
 */
import { addLatency } from '../latency.js';
import type {
  BackendStats,
  ReleaseOutcomes,
  RequestOutcomes,
  ResponseCounts,
  RouteSpec,
  RouteStats,
} from '../types.js';

export type RouteCounters = Record<string, RouteStats>;

const RESPONSE_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;

/**
 * The routes of `table`, each with its backends' counters summed over `live` (one snapshot per
 * running worker) and `departed`. A departed backend is kept while its id is in the route or a
 * live worker still reports it (a drain in progress); then it is forgotten.
 */
export function mergeCounters(
  table: readonly RouteSpec[],
  live: readonly RouteCounters[],
  departed: RouteCounters,
): RouteCounters {
  const merged: RouteCounters = {};
  for (const spec of table) {
    const backends = new Map<string, BackendStats>();
    let held = 0;
    let connections = 0;
    let refusedConnections = addRefusals(NO_REFUSALS, ownRoute(departed, spec.name)?.refusedConnections);
    let outcomes = addOutcomes(NO_OUTCOMES, ownRoute(departed, spec.name)?.outcomes);
    for (const snapshot of live) {
      const route = ownRoute(snapshot, spec.name);
      if (route === undefined) continue;
      held += route.held;
      // Limits are enforced per worker; what a route holds and refused is their sum.
      connections += route.connections ?? 0;
      refusedConnections = addRefusals(refusedConnections, route.refusedConnections);
      outcomes = addOutcomes(outcomes, route.outcomes);
      for (const backend of route.backends)
        backends.set(backend.id, sumBackends(backends.get(backend.id), backend));
    }
    const inRoute = new Set(spec.backends.map((b) => b.id));
    for (const backend of ownRoute(departed, spec.name)?.backends ?? []) {
      if (!inRoute.has(backend.id) && !backends.has(backend.id)) continue;
      backends.set(backend.id, sumBackends(backends.get(backend.id), { ...backend, inFlight: 0 }));
    }
    // Backends of the spec that no worker has counted yet show as zero: the daemon sees every id.
    for (const backend of spec.backends) {
      if (!backends.has(backend.id)) backends.set(backend.id, emptyBackend(backend.id, backend.release));
    }
    merged[spec.name] = {
      listen: { ...spec.listen },
      backends: [...backends.values()],
      held,
      connections,
      refusedConnections,
      outcomes,
    };
  }
  return merged;
}

/** Adds a worker's last counters to what departed workers counted (in-flight requests are gone). */
export function addDeparted(departed: RouteCounters, last: RouteCounters): RouteCounters {
  const result: RouteCounters = { ...departed };
  for (const [name, route] of Object.entries(last)) {
    const backends = new Map((ownRoute(result, name)?.backends ?? []).map((b) => [b.id, b]));
    for (const backend of route.backends) {
      backends.set(backend.id, sumBackends(backends.get(backend.id), { ...backend, inFlight: 0 }));
    }
    const refusedConnections = addRefusals(
      addRefusals(NO_REFUSALS, ownRoute(result, name)?.refusedConnections),
      route.refusedConnections,
    );
    result[name] = {
      listen: route.listen,
      backends: [...backends.values()],
      held: 0,
      connections: 0,
      refusedConnections,
      // Outcomes are kept per route and release, never per backend: they outlive retired instances.
      outcomes: addOutcomes(addOutcomes(NO_OUTCOMES, ownRoute(result, name)?.outcomes), route.outcomes),
    };
  }
  return result;
}

/** Departed counters of the routes and backends still in `table` (what a successor carries on with). */
export function pruneDeparted(departed: RouteCounters, table: readonly RouteSpec[]): RouteCounters {
  const result: RouteCounters = {};
  for (const spec of table) {
    const route = ownRoute(departed, spec.name);
    if (route === undefined) continue;
    const ids = new Set(spec.backends.map((b) => b.id));
    result[spec.name] = { ...route, backends: route.backends.filter((b) => ids.has(b.id)) };
  }
  return result;
}

type Refusals = RouteStats['refusedConnections'];
const NO_REFUSALS: Refusals = { maxConnections: 0, maxConnectionsPerClient: 0 };

/** Sums refusal counts (a router older than the limits reports none). */
function addRefusals(a: Refusals, b: Refusals | undefined): Refusals {
  if (b === undefined) return a;
  return {
    maxConnections: a.maxConnections + b.maxConnections,
    maxConnectionsPerClient: a.maxConnectionsPerClient + b.maxConnectionsPerClient,
  };
}

const NO_OUTCOMES: RequestOutcomes = { releases: [], held: 0, rejected: 0, abandoned: 0 };

/** Sums request outcomes, release by release (a router older than them reports none). */
function addOutcomes(a: RequestOutcomes, b: RequestOutcomes | undefined): RequestOutcomes {
  if (b === undefined) return a;
  const releases = new Map<string, ReleaseOutcomes>(a.releases.map((r) => [r.release, r]));
  for (const r of b.releases) {
    const sum = releases.get(r.release);
    if (sum === undefined) {
      releases.set(r.release, { ...r, responses: { ...r.responses } });
      continue;
    }
    const responses = {} as ResponseCounts;
    for (const key of RESPONSE_CLASSES) responses[key] = sum.responses[key] + r.responses[key];
    releases.set(r.release, {
      release: r.release,
      responses,
      reset: sum.reset + r.reset,
      timeout: sum.timeout + r.timeout,
    });
  }
  return {
    releases: [...releases.values()],
    held: a.held + b.held,
    rejected: a.rejected + b.rejected,
    abandoned: a.abandoned + b.abandoned,
  };
}

function sumBackends(a: BackendStats | undefined, b: BackendStats): BackendStats {
  if (a === undefined) return { ...b, responses: { ...b.responses }, ...latencyOf(undefined, b) };
  const responses = {} as ResponseCounts;
  for (const key of RESPONSE_CLASSES) responses[key] = a.responses[key] + b.responses[key];
  return {
    id: a.id,
    release: b.release,
    inFlight: a.inFlight + b.inFlight,
    requests: a.requests + b.requests,
    responses,
    errors: a.errors + b.errors,
    ejectedUntil: latest(a.ejectedUntil, b.ejectedUntil),
    ...latencyOf(a, b),
  };
}

/** The summed latency, as a field only when either side counted it (an older router does not). */
function latencyOf(a: BackendStats | undefined, b: BackendStats): Pick<BackendStats, 'latency'> {
  const latency = addLatency(a?.latency, b.latency);
  return latency === undefined ? {} : { latency };
}

function latest(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.max(a, b);
}

function emptyBackend(id: string, release: string): BackendStats {
  return {
    id,
    release,
    inFlight: 0,
    requests: 0,
    responses: { '1xx': 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 },
    errors: 0,
    ejectedUntil: null,
  };
}

/** Route names come from outside (the daemon): only own properties count. */
function ownRoute(counters: RouteCounters, name: string): RouteStats | undefined {
  return Object.hasOwn(counters, name) ? counters[name] : undefined;
}
