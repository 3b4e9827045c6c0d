/**
 * The router's wire types: what the daemon sends (RouteSpec) and what the router reports (RouterStats).
 * The router process outlives daemon upgrades, so both sides must tolerate fields they do not know.
 */

/** One route: a listen address in front of one app's instances in one environment. */
export interface RouteSpec {
  /** e.g. "hello.production"; letters, digits, '.', '_' and '-' (it is a URL path segment). */
  name: string;
  listen: ListenAddress;
  backends: BackendSpec[];
  /** How long a request waits for a usable backend before a 503. Default 10000. */
  holdTimeoutMs?: number;
}

export interface ListenAddress {
  host: string;
  port: number;
}

/** One instance behind a route. */
export interface BackendSpec {
  /** The instance id; stats are kept per id. */
  id: string;
  /** The release version the instance runs, for stats per release. */
  release: string;
  host: string;
  port: number;
  /** >= 0; the relative share of new requests. Weight 0 only gets traffic when nothing weighted can. */
  weight: number;
  /** Set by the daemon's active health checks; an unhealthy backend never gets a request. */
  healthy: boolean;
}

export interface ResponseCounts {
  '1xx': number;
  '2xx': number;
  '3xx': number;
  '4xx': number;
  '5xx': number;
}

/** Counters are cumulative for the life of a backend id in the router; the daemon takes deltas. */
export interface BackendStats {
  id: string;
  release: string;
  inFlight: number;
  requests: number;
  responses: ResponseCounts;
  /** Connection errors, timeouts and resets seen by the router, counted even when retried elsewhere. */
  errors: number;
  /** Epoch ms until which passive health keeps new requests away, or null. */
  ejectedUntil: number | null;
}

export interface RouteStats {
  listen: ListenAddress;
  /** Removed backends stay listed while requests are still in flight to them (draining). */
  backends: BackendStats[];
  /** Requests waiting for a usable backend right now. */
  held: number;
}

export interface RouterStats {
  pid: number;
  routes: Record<string, RouteStats>;
}

export const DEFAULT_HOLD_TIMEOUT_MS = 10_000;
