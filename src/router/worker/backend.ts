import { Pool } from 'undici';
import type { Candidate } from './balancer.js';
import { ServerErrorWindow } from './server-error-window.js';
import { copyLatency, emptyLatency, recordLatency } from '../latency.js';
import type { BackendSpec, BackendStats, ResponseCounts } from '../types.js';

/** How long passive health keeps new requests away from a backend that failed. */
export const EJECT_COOLDOWN_MS = 2000;

/**
 * Upstream connections use an undici Pool per backend rather than node:http's keep-alive Agent:
 * measured through this router on the same machine (wrk, 32 keep-alive connections, tiny responses)
 * the Pool gave ~1.7x the requests/s of http.request with an Agent (about 8k vs 5k req/s), because it
 * skips ClientRequest/IncomingMessage objects per request. It also honours the server's Keep-Alive
 * timeout hint, which avoids most races with a backend closing an idle socket.
 */
function createPool(host: string, port: number, connectTimeoutMs: number): Pool {
  const origin = host.includes(':') ? `http://[${host}]:${port}` : `http://${host}:${port}`;
  return new Pool(origin, { connect: { timeout: connectTimeoutMs } });
}

export type RequestFailure = 'connect' | 'reset' | 'timeout';

export interface BackendEvents {
  /** Passive health took the backend out of rotation (it was in before). */
  ejected?(backend: Backend, reason: string): void;
  /** No request in flight any more, and the backend gets no new ones (removed, unhealthy or weight 0). */
  drained?(backend: Backend): void;
}

/** One instance behind a route, as the router sees it: its spec, its counters and its connections. */
export class Backend implements Candidate {
  id: string;
  release: string;
  host: string;
  port: number;
  weight: number;
  healthy: boolean;
  currentWeight = 0;
  ejectedUntil: number | null = null;
  /** Removed from the route; kept while requests are still in flight to it. */
  retired = false;
  /** Could get new requests (tier 1 or 2); when false the idle connections are closed once drained. */
  serving = true;

  inFlight = 0;
  requests = 0;
  errors = 0;
  private readonly responses: ResponseCounts = { '1xx': 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 };
  private readonly latency = emptyLatency();
  private readonly serverErrors = new ServerErrorWindow();
  private pool: Pool | undefined;
  private poolConnectTimeoutMs = 0;

  constructor(
    spec: BackendSpec,
    private readonly events: BackendEvents = {},
  ) {
    this.id = spec.id;
    this.release = spec.release;
    this.host = spec.host;
    this.port = spec.port;
    this.weight = spec.weight;
    this.healthy = spec.healthy;
  }

  /** Applies a new spec for the same id; counters and, if the address is unchanged, connections stay. */
  update(spec: BackendSpec): void {
    if (spec.host !== this.host || spec.port !== this.port) {
      this.closeConnections();
      this.host = spec.host;
      this.port = spec.port;
    }
    this.release = spec.release;
    this.weight = spec.weight;
    this.healthy = spec.healthy;
    this.retired = false;
  }

  /**
   * The connection pool, opened on first use (again after a drain closed it). The connect timeout is a
   * setting of the pool: when the route's changes, the old pool finishes its requests and a new one
   * takes the next.
   */
  dispatcher(connectTimeoutMs: number): Pool {
    if (this.pool !== undefined && this.poolConnectTimeoutMs === connectTimeoutMs) return this.pool;
    this.closeConnections();
    this.poolConnectTimeoutMs = connectTimeoutMs;
    this.pool = createPool(this.host, this.port, connectTimeoutMs);
    return this.pool;
  }

  /** A request (or an upgrade) starts on this backend. */
  begin(): void {
    this.inFlight += 1;
    this.requests += 1;
  }

  /** A request on this backend ended, whatever its outcome. */
  finish(): void {
    this.inFlight -= 1;
    if (this.inFlight === 0 && (this.retired || !this.serving)) this.drained();
  }

  recordResponse(status: number, now: number): void {
    const counts = this.responses;
    if (status >= 500) counts['5xx'] += 1;
    else if (status >= 400) counts['4xx'] += 1;
    else if (status >= 300) counts['3xx'] += 1;
    else if (status >= 200) counts['2xx'] += 1;
    else counts['1xx'] += 1;
    const isServerError = status >= 500;
    this.serverErrors.record(isServerError, now);
    if (isServerError && this.serverErrors.isFailing(now))
      this.eject(now, 'at least half of its recent responses were 5xx');
  }

  /** A response relayed from this backend ended, `seconds` after its request arrived. */
  recordDuration(seconds: number): void {
    recordLatency(this.latency, seconds);
  }

  recordFailure(failure: RequestFailure, now: number): void {
    this.errors += 1;
    this.eject(now, `${failure} failure`);
  }

  /** Called by the route when this backend's role changes; a drained, non-serving one lets go of sockets. */
  settle(): void {
    if (this.inFlight === 0 && (this.retired || !this.serving)) this.drained();
  }

  stats(now: number): BackendStats {
    const ejected = this.ejectedUntil !== null && this.ejectedUntil > now;
    return {
      id: this.id,
      release: this.release,
      inFlight: this.inFlight,
      requests: this.requests,
      responses: { ...this.responses },
      errors: this.errors,
      ejectedUntil: ejected ? this.ejectedUntil : null,
      latency: copyLatency(this.latency),
    };
  }

  /** Closes the connections now, failing whatever is still on them (router shutdown, route deleted). */
  destroy(): void {
    const pool = this.pool;
    this.pool = undefined;
    if (pool !== undefined) void pool.destroy().catch(() => undefined);
  }

  private eject(now: number, reason: string): void {
    const wasIn = this.ejectedUntil === null || this.ejectedUntil <= now;
    this.ejectedUntil = now + EJECT_COOLDOWN_MS;
    if (wasIn) this.events.ejected?.(this, reason);
    this.serverErrors.reset();
  }

  private drained(): void {
    // Idle upstream keep-alive sockets would keep the old instance's server from closing quickly.
    this.closeConnections();
    this.events.drained?.(this);
  }

  private closeConnections(): void {
    const pool = this.pool;
    this.pool = undefined;
    // close() lets requests still on the pool finish, then closes its sockets.
    if (pool !== undefined) void pool.close().catch(() => undefined);
  }
}
