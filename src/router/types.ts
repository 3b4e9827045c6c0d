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
  // The app's `router` settings. Each is optional: the router applies DEFAULT_ROUTE_SETTINGS to what
  // is absent, since it may outlive a daemon of another version. A timeout of 0 means none.
  /** Connecting to a backend; then another one is tried. */
  connectTimeoutMs?: number;
  /** From the request sent to the response headers; 504 after. */
  responseTimeoutMs?: number;
  /** No body bytes moving either way for this long ends the exchange. */
  idleTimeoutMs?: number;
  /** Connect plus the 101 answer of an Upgrade request; 504 after. */
  upgradeTimeoutMs?: number;
  /** A client must send its request headers within this; 408 after. */
  headerTimeoutMs?: number;
  /** A client must send its whole request within this; 408 after. */
  requestTimeoutMs?: number;
  /** Larger request headers get 431. */
  maxHeaderBytes?: number;
  /** Open client connections to the route; more get 503 and are closed. */
  maxConnections?: number;
  /** Open client connections per client address (trusted proxies exempt); more get 429. */
  maxConnectionsPerClient?: number;
  /** Peers whose X-Forwarded-*, Forwarded and X-Real-IP headers are kept. */
  trustedProxies?: IpRange[];
}

/** An IP address block, "10.0.0.0/8" as {address: '10.0.0.0', prefix: 8, family: 'ipv4'}. */
export interface IpRange {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
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
  /** How long the responses relayed from it took (absent from routers before it was counted). */
  latency?: LatencyHistogram;
}

/**
 * Durations as a histogram: `counts[i]` responses took at most `le[i]` seconds (and more than
 * `le[i - 1]`); the last count, one more than `le` has, is for longer ones. Cumulative like the
 * other counters.
 */
export interface LatencyHistogram {
  le: number[];
  counts: number[];
  /** Seconds, all responses together. */
  sum: number;
}

/** The router's latency buckets, in seconds: from the request's arrival to its response's end. */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];

export interface RouteStats {
  listen: ListenAddress;
  /** Removed backends stay listed while requests are still in flight to them (draining). */
  backends: BackendStats[];
  /** Requests waiting for a usable backend right now. */
  held: number;
  /** Client connections open right now. */
  connections: number;
  /** Client connections refused since the route was added, by the limit they hit (cumulative). */
  refusedConnections: { maxConnections: number; maxConnectionsPerClient: number };
  /**
   * What became of the route's client requests, each counted once when it ended (cumulative within
   * an epoch, like every counter here). Absent from routers before it existed.
   */
  outcomes?: RequestOutcomes;
}

/**
 * Client requests by how they ended. Unlike a backend's `requests` and `errors`, which count tries
 * (a request retried on another instance is counted on both), a request is counted here once.
 */
export interface RequestOutcomes {
  /** Per release, the requests that reached one of its instances. Never forgotten while the route exists. */
  releases: ReleaseOutcomes[];
  /** Held while no instance was usable, then answered 503 by the router at the route's hold timeout. */
  held: number;
  /** Answered 400 by the router: not valid to forward (two Host headers, a malformed body). */
  rejected: number;
  /** The client went away before its answer was complete. */
  abandoned: number;
}

export interface ReleaseOutcomes {
  release: string;
  /** Responses of the release's instances that reached the client whole, by status class. */
  responses: ResponseCounts;
  /** Answered 502 by the router, or a response cut short: the connection to the instance broke. */
  reset: number;
  /** Answered 504 by the router, or a response cut short: the instance did not answer in time. */
  timeout: number;
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

/** The router's settings of a route when its spec does not name them (the config's defaults). */
export const DEFAULT_ROUTE_SETTINGS = {
  connectTimeoutMs: 5_000,
  responseTimeoutMs: 60_000,
  idleTimeoutMs: 60_000,
  upgradeTimeoutMs: 10_000,
  headerTimeoutMs: 20_000,
  requestTimeoutMs: 300_000,
  maxHeaderBytes: 16 * 1024,
  maxConnections: 10_000,
  maxConnectionsPerClient: 1_000,
} as const;
