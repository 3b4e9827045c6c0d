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
  /** The keeper's pid. */
  pid: number;
  /** The Ferry version of the keeper (absent from routers before the keeper existed). */
  version?: string;
  /**
   * Counters are continuous within an epoch: a successor of a keeper keeps it, a fresh keeper (or
   * one rescued by a worker after its keeper died) starts a new one. A reader taking differences
   * starts afresh when it changes.
   */
  epoch?: string;
  routes: Record<string, RouteStats>;
}

/** One worker as the keeper reports it. */
export interface RouterWorkerView {
  readonly rank: number;
  readonly pid: number | null;
  /** starting, syncing, up, draining, gone, or restarting (waiting for its backoff). */
  readonly state: string;
  readonly startedAt: number | null;
  readonly restarts: number;
  readonly crashLoop: boolean;
  readonly lastExit: string | null;
}

/** GET /healthz of the router's control API. */
export interface RouterHealth {
  readonly ok: boolean;
  readonly pid: number;
  readonly version: string;
  readonly epoch: string;
  /** running, handing-over, stopping, stopped. */
  readonly state: string;
  readonly startedAt: number;
  readonly uptimeMs: number;
  readonly workers: readonly RouterWorkerView[];
  /** The warm spare that takes a dead worker's place at once. */
  readonly spare?: { readonly pid: number | null; readonly state: string };
  readonly routes: number;
  /** Routes whose port could not be bound yet (retried), with the last error. */
  readonly unbound: ReadonlyArray<{ readonly route: string; readonly error: string }>;
}

export const DEFAULT_HOLD_TIMEOUT_MS = 10_000;
