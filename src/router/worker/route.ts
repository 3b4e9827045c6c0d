import { Backend, type BackendEvents } from './backend.js';
import { isServing, pickBackend, type Cursor } from './balancer.js';
import { ConnectionLimits } from './connection-limits.js';
import { RequestOutcomeCounter } from './request-outcomes.js';
import { resolveRouteSettings, type RouteSettings } from './route-settings.js';
import type { RouteSpec, RouteStats } from '../types.js';

const FIRST_RETRY_DELAY_MS = 50;
const MAX_RETRY_DELAY_MS = 1000;

/**
 * Something waiting for a backend: a request or an upgrade. While no backend is usable it is held
 * (queued) until one appears or its deadline passes.
 */
export interface BackendWaiter {
  readonly deadline: number;
  /** Backends that already failed this request; cleared when a held retry wakes up. */
  excluded: Set<Backend> | undefined;
  /** How many times this waiter was held after failures, for its retry backoff. */
  holdRetries: number;
  holdTimer: NodeJS.Timeout | undefined;
  grant(backend: Backend): void;
  /** No backend within the deadline, or the route is closing: answer 503. */
  expire(): void;
}

export interface RouteEvents {
  backendEjected?(route: Route, backend: Backend, reason: string): void;
}

/** One route's backends, their selection and the requests held while none is usable. */
export class Route {
  spec: RouteSpec;
  /** The spec's settings with defaults applied; a new object on every change. */
  settings: RouteSettings;
  /** Client connections, shared by every listener of the route (an old address drains beside a new one). */
  readonly connections = new ConnectionLimits();
  /** What became of each client request (requests and upgrades count themselves here once). */
  readonly outcomes = new RequestOutcomeCounter();
  private backends: Backend[] = [];
  /** Every backend with an id in the route, plus removed ones still draining. */
  private readonly byId = new Map<string, Backend>();
  private readonly cursor: Cursor = { next: 0 };
  private readonly holders = new Set<BackendWaiter>();
  private closing = false;

  private readonly backendEvents: BackendEvents;

  /** `workers`: how many router processes serve the route; each admits its share of the connections. */
  constructor(
    spec: RouteSpec,
    events: RouteEvents = {},
    private readonly workers = 1,
  ) {
    this.spec = spec;
    this.settings = resolveRouteSettings(spec, workers);
    this.backendEvents = {
      ejected: (backend, reason) => events.backendEjected?.(this, backend, reason),
      drained: (backend) => this.forgetIfRetired(backend),
    };
    this.apply(spec);
  }

  get name(): string {
    return this.spec.name;
  }

  /** Replaces the backends and settings at once for new requests; requests in flight finish where they are. */
  apply(spec: RouteSpec): void {
    this.spec = spec;
    this.settings = resolveRouteSettings(spec, this.workers);
    const next: Backend[] = [];
    for (const backendSpec of spec.backends) {
      let backend = this.byId.get(backendSpec.id);
      if (backend === undefined) {
        backend = new Backend(backendSpec, this.backendEvents);
        this.byId.set(backend.id, backend);
      } else {
        backend.update(backendSpec);
      }
      next.push(backend);
    }
    const kept = new Set(next);
    for (const backend of this.byId.values()) if (!kept.has(backend)) backend.retired = true;
    this.backends = next;
    for (const backend of next) backend.serving = isServing(backend, next);
    for (const backend of [...this.byId.values()]) backend.settle();
    this.wakeHolders();
  }

  /** Grants a backend to the waiter now, or holds it until one is usable or its deadline passes. */
  acquire(waiter: BackendWaiter): void {
    const now = Date.now();
    const backend = this.closing ? undefined : pickBackend(this.backends, now, this.cursor, waiter.excluded);
    if (backend !== undefined) {
      waiter.grant(backend);
      return;
    }
    if (this.closing || now >= waiter.deadline) {
      waiter.expire();
      return;
    }
    let wakeAt = waiter.deadline;
    if (waiter.excluded !== undefined && waiter.excluded.size > 0) {
      // Everything usable failed this request: try them again after a backoff (an instance restarting
      // on the same port comes back within moments).
      const delay = Math.min(FIRST_RETRY_DELAY_MS * 2 ** waiter.holdRetries, MAX_RETRY_DELAY_MS);
      waiter.holdRetries += 1;
      wakeAt = Math.min(wakeAt, now + delay);
    }
    this.holders.add(waiter);
    waiter.holdTimer = setTimeout(() => {
      waiter.holdTimer = undefined;
      this.holders.delete(waiter);
      waiter.excluded = undefined;
      this.acquire(waiter);
    }, wakeAt - now);
  }

  /** Stops holding a waiter whose client went away. */
  release(waiter: BackendWaiter): void {
    if (waiter.holdTimer !== undefined) clearTimeout(waiter.holdTimer);
    waiter.holdTimer = undefined;
    this.holders.delete(waiter);
  }

  /** Answers held requests with 503 and refuses new ones: the route is being deleted or the router stops. */
  close(): void {
    this.closing = true;
    this.wakeHolders();
  }

  /** Closes every upstream connection (after the listener finished its requests). */
  destroy(): void {
    for (const backend of this.byId.values()) backend.destroy();
  }

  stats(now = Date.now()): RouteStats {
    return {
      listen: { ...this.spec.listen },
      backends: [...this.byId.values()].map((backend) => backend.stats(now)),
      held: this.holders.size,
      connections: this.connections.open,
      refusedConnections: { ...this.connections.refused },
      outcomes: this.outcomes.snapshot(),
    };
  }

  private wakeHolders(): void {
    const waiting = [...this.holders];
    this.holders.clear();
    for (const waiter of waiting) {
      if (waiter.holdTimer !== undefined) clearTimeout(waiter.holdTimer);
      waiter.holdTimer = undefined;
      this.acquire(waiter);
    }
  }

  private forgetIfRetired(backend: Backend): void {
    if (backend.retired && this.byId.get(backend.id) === backend) this.byId.delete(backend.id);
  }
}
