import { FerryError, messageOf } from '../../errors/ferry-error.js';
import { EJECT_COOLDOWN_MS } from './backend.js';
import type { SocketHandle } from '../keeper/listen-socket.js';
import { RouteListener } from './listener.js';
import { Route } from './route.js';
import type { RouteSpec, RouteStats } from '../types.js';

export interface RouterLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface RouterOptions {
  logger: RouterLogger;
  /** How long a closing listener (route removed or moved, worker draining) lets requests finish. */
  drainMs: number;
  /** A spare: holds the sockets without accepting until activate(). */
  standby?: boolean;
  /** How many workers serve the routes: each admits its share of a route's connection limits. */
  workers?: number;
}

/** 'running' serves and takes changes; 'draining' finishes what is in flight; 'stopped' is done. */
export type RouterState = 'running' | 'draining' | 'stopped';

interface RouteEntry {
  route: Route;
  /** Undefined while standing by: the handle is held, nothing accepts on it. */
  listener: RouteListener | undefined;
  /** The keeper's id of the socket the listener accepts on. */
  socketId: string;
  handle: SocketHandle;
}

/**
 * A worker's routes: one Route (backends, balancing, held requests) and one listener per route,
 * accepting on the listening socket the keeper handed over. The keeper owns the table and its
 * persistence; a worker only serves what it is told.
 */
export class Router {
  private readonly entries = new Map<string, RouteEntry>();
  private state: RouterState = 'running';
  private standby: boolean;

  constructor(private readonly options: RouterOptions) {
    this.standby = options.standby ?? false;
  }

  /** A spare takes a dead worker's place: it accepts on every socket it holds. */
  async activate(): Promise<void> {
    this.standby = false;
    await Promise.all(
      [...this.entries.values()].map(async (entry) => {
        if (entry.listener !== undefined) return;
        const listener = this.newListener(entry.route);
        await listener.listenOn(entry.handle);
        entry.listener = listener;
      }),
    );
    this.options.logger.info({ routes: this.entries.size }, 'spare activated: accepting on every route');
  }

  /**
   * Serves `spec` on the socket `socketId`. The handle comes along only when the socket is new to
   * this worker (a new route, or a route that moved): the old listener then drains.
   */
  async serve(spec: RouteSpec, socketId: string, handle: SocketHandle | undefined): Promise<void> {
    this.assertRunning('serve a route');
    const entry = this.entries.get(spec.name);
    if (entry !== undefined && entry.socketId === socketId) {
      entry.route.apply(spec);
      return;
    }
    if (handle === undefined) {
      throw new FerryError(
        'FERRY_E_INTERNAL',
        `route ${spec.name}: expected the handle of socket ${socketId} with the route, got none`,
      );
    }
    const route = entry?.route ?? this.newRoute(spec);
    if (entry !== undefined) route.apply(spec);
    let listener: RouteListener | undefined;
    if (!this.standby) {
      listener = this.newListener(route);
      await listener.listenOn(handle);
    }
    this.entries.set(spec.name, { route, listener, socketId, handle });
    if (entry !== undefined) this.release(entry);
    this.options.logger.info({ route: spec.name, listen: spec.listen }, 'serving route');
  }

  /** The id of the socket the route is served on here, if it is. */
  socketOf(name: string): string | undefined {
    return this.entries.get(name)?.socketId;
  }

  /** Stops accepting on the route's socket; requests in flight finish (bounded by drainMs). */
  remove(name: string): boolean {
    const entry = this.entries.get(name);
    if (entry === undefined) return false;
    this.entries.delete(name);
    entry.route.close();
    this.release(entry, () => entry.route.destroy());
    this.options.logger.info({ route: name }, 'route removed');
    return true;
  }

  /** Each route's counters as this worker saw them. */
  stats(): Record<string, RouteStats> {
    const now = Date.now();
    const routes: Record<string, RouteStats> = {};
    for (const [name, entry] of this.entries) routes[name] = entry.route.stats(now);
    return routes;
  }

  /** The routes and the sockets they accept on, for handing over to a new keeper. */
  sockets(): Array<{ spec: RouteSpec; handle: SocketHandle }> {
    return [...this.entries.values()].map((entry) => ({ spec: entry.route.spec, handle: entry.handle }));
  }

  /** Stops accepting everywhere and lets requests in flight finish (bounded by drainMs). */
  async drain(drainMs = this.options.drainMs): Promise<void> {
    if (this.state !== 'running') return;
    this.state = 'draining';
    const entries = [...this.entries.values()];
    // The routes stay valid: requests still arriving on open connections are served, not refused.
    await Promise.all(
      entries.map((entry) =>
        entry.listener ? entry.listener.close(drainMs) : Promise.resolve(entry.handle.close()),
      ),
    );
    for (const entry of entries) {
      entry.route.close();
      entry.route.destroy();
    }
    this.state = 'stopped';
  }

  /** Lets go of a socket: a listener drains (then `after`), a handle held in standby just closes. */
  private release(entry: RouteEntry, after: () => void = () => undefined): void {
    if (entry.listener === undefined) {
      entry.handle.close();
      after();
      return;
    }
    void entry.listener.close(this.options.drainMs).then(after);
  }

  private newRoute(spec: RouteSpec): Route {
    return new Route(
      spec,
      {
        backendEjected: (route, backend, reason) =>
          this.options.logger.warn(
            {
              route: route.name,
              backend: backend.id,
              release: backend.release,
              reason,
              cooldownMs: EJECT_COOLDOWN_MS,
            },
            'backend ejected by passive health',
          ),
      },
      this.options.workers ?? 1,
    );
  }

  private newListener(route: Route): RouteListener {
    return new RouteListener(route, (error) =>
      this.options.logger.error({ route: route.name, err: messageOf(error) }, 'listener error'),
    );
  }

  private assertRunning(action: string): void {
    if (this.state !== 'running') {
      throw new FerryError('FERRY_E_ILLEGAL_STATE', `cannot ${action}: the router worker is ${this.state}`, {
        expected: 'running',
        got: this.state,
      });
    }
  }
}
