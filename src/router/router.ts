import { FerryError, messageOf } from '../errors/ferry-error.js';
import { EJECT_COOLDOWN_MS } from './backend.js';
import { RouteListener } from './listener.js';
import { Route } from './route.js';
import { loadRouteTable, saveRouteTable } from './route-table-file.js';
import type { ListenAddress, RouteSpec, RouterStats } from './types.js';

export interface RouterLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface RouterOptions {
  stateDir: string;
  logger: RouterLogger;
  /** How long a closing listener (route deleted or moved, router stopping) lets requests finish. */
  drainMs?: number;
}

/** 'running' serves and takes changes; 'stopping' finishes what is in flight; 'stopped' is done. */
export type RouterState = 'running' | 'stopping' | 'stopped';

interface RouteEntry {
  route: Route;
  /** Undefined while a restored route waits for its port (retried in the background). */
  listener: RouteListener | undefined;
  retryTimer?: NodeJS.Timeout;
}

const DEFAULT_DRAIN_MS = 10_000;
const LISTEN_RETRY_MS = 2000;

/** The routing table: one Route and one listener per route name, persisted on every change. */
export class Router {
  private readonly entries = new Map<string, RouteEntry>();
  private readonly drainMs: number;
  private changes: Promise<unknown> = Promise.resolve();
  private state: RouterState = 'running';

  constructor(private readonly options: RouterOptions) {
    this.drainMs = options.drainMs ?? DEFAULT_DRAIN_MS;
  }

  /** Serves the table the previous router saved, so a restarted router routes again at once. */
  async restore(): Promise<void> {
    const { routes, problems } = loadRouteTable(this.options.stateDir);
    for (const problem of problems) this.options.logger.warn({ problem }, 'skipped a saved route');
    for (const spec of routes) {
      const entry: RouteEntry = { route: this.newRoute(spec), listener: undefined };
      this.entries.set(spec.name, entry);
      await this.listenInBackground(entry);
    }
    this.options.logger.info({ routes: routes.length }, 'routing table restored');
  }

  /** Adds or replaces a route; a new listen address is bound before the old one is let go. */
  putRoute(spec: RouteSpec): Promise<void> {
    return this.serialize(async () => {
      this.assertRunning('put a route');
      const other = [...this.entries.values()].find(
        (e) => e.route.name !== spec.name && isSameAddress(e.route.spec.listen, spec.listen),
      );
      if (other !== undefined) {
        const where = `${spec.listen.host}:${spec.listen.port}`;
        throw new FerryError(
          'FERRY_E_PORT_IN_USE',
          `listen address ${where}: expected a free port, got one used by route ${other.route.name}`,
          { where, route: other.route.name },
        );
      }
      const entry = this.entries.get(spec.name);
      if (entry === undefined) {
        const route = this.newRoute(spec);
        const listener = this.newListener(route);
        await listener.listen(spec.listen);
        this.entries.set(spec.name, { route, listener });
        this.options.logger.info({ route: spec.name, listen: spec.listen }, 'route added');
      } else {
        if (entry.listener === undefined || !isSameAddress(entry.route.spec.listen, spec.listen)) {
          clearTimeout(entry.retryTimer);
          const listener = this.newListener(entry.route);
          try {
            await listener.listen(spec.listen);
          } catch (error) {
            if (entry.listener === undefined) this.scheduleListenRetry(entry);
            throw error;
          }
          const old = entry.listener;
          entry.listener = listener;
          void old?.close(this.drainMs);
          this.options.logger.info(
            { route: spec.name, listen: spec.listen },
            'route listens on a new address',
          );
        }
        entry.route.apply(spec);
      }
      this.persist();
    });
  }

  /** Removes a route: its listener stops accepting and closes once requests in flight finish. */
  async deleteRoute(name: string): Promise<boolean> {
    const entry = await this.serialize(() => {
      this.assertRunning('delete a route');
      const found = this.entries.get(name);
      if (found === undefined) return Promise.resolve(undefined);
      this.entries.delete(name);
      clearTimeout(found.retryTimer);
      this.persist();
      return Promise.resolve(found);
    });
    if (entry === undefined) return false;
    entry.route.close();
    await entry.listener?.close(this.drainMs);
    entry.route.destroy();
    this.options.logger.info({ route: name }, 'route deleted');
    return true;
  }

  routes(): RouteSpec[] {
    return [...this.entries.values()].map((entry) => entry.route.spec);
  }

  stats(): RouterStats {
    const now = Date.now();
    const routes: RouterStats['routes'] = {};
    for (const [name, entry] of this.entries) routes[name] = entry.route.stats(now);
    return { pid: process.pid, routes };
  }

  /** Stops accepting everywhere, lets requests in flight finish (bounded by drainMs), closes upstreams. */
  async shutdown(): Promise<void> {
    if (this.state !== 'running') return;
    this.state = 'stopping';
    await this.changes.catch(() => undefined);
    const entries = [...this.entries.values()];
    for (const entry of entries) {
      clearTimeout(entry.retryTimer);
      entry.route.close();
    }
    await Promise.all(entries.map((entry) => entry.listener?.close(this.drainMs) ?? Promise.resolve()));
    for (const entry of entries) entry.route.destroy();
    this.state = 'stopped';
  }

  private async listenInBackground(entry: RouteEntry): Promise<void> {
    const listener = this.newListener(entry.route);
    const { name, listen } = entry.route.spec;
    try {
      await listener.listen(listen);
      if (this.state !== 'running' || this.entries.get(name) !== entry || entry.listener !== undefined) {
        void listener.close(0);
        return;
      }
      entry.listener = listener;
    } catch (error) {
      this.options.logger.error({ route: name, listen, err: messageOf(error) }, 'cannot listen; retrying');
      this.scheduleListenRetry(entry);
    }
  }

  /** A restored route whose port is still taken (e.g. by a router that is not quite gone) tries again. */
  private scheduleListenRetry(entry: RouteEntry): void {
    const name = entry.route.name;
    entry.retryTimer = setTimeout(() => {
      if (this.state === 'running' && this.entries.get(name) === entry && entry.listener === undefined) {
        void this.listenInBackground(entry);
      }
    }, LISTEN_RETRY_MS);
  }

  private newRoute(spec: RouteSpec): Route {
    return new Route(spec, {
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
    });
  }

  private newListener(route: Route): RouteListener {
    return new RouteListener(route, (error) =>
      this.options.logger.error({ route: route.name, err: messageOf(error) }, 'listener error'),
    );
  }

  private persist(): void {
    saveRouteTable(this.options.stateDir, this.routes());
  }

  private assertRunning(action: string): void {
    if (this.state !== 'running') {
      throw new FerryError('FERRY_E_ILLEGAL_STATE', `cannot ${action}: the router is ${this.state}`, {
        expected: 'running',
        got: this.state,
      });
    }
  }

  /** Route changes run one at a time, in arrival order, so listens and table writes never interleave. */
  private serialize<T>(change: () => Promise<T>): Promise<T> {
    const result = this.changes.then(change, change);
    this.changes = result.catch(() => undefined);
    return result;
  }
}

function isSameAddress(a: ListenAddress, b: ListenAddress): boolean {
  return a.host === b.host && a.port === b.port;
}
