import { randomBytes } from 'node:crypto';
import { FerryError, messageOf } from '../../errors/ferry-error.js';
import { bindListenSocket, ListenSocket, type SocketHandle } from './listen-socket.js';
import { loadRouteTable, saveRouteTable } from '../route-table-file.js';
import type { RouterLogger } from '../worker/router.js';
import { routerFiles } from '../state-dir.js';
import { mergeCounters, pruneDeparted, type RouteCounters } from './stats-merge.js';
import { handOver } from '../successor.js';
import type { ListenAddress, RouteSpec, RouterHealth, RouterStats } from '../types.js';
import { WorkerPool } from './worker-pool.js';

/**
 * running: serves and takes changes; handing-over: a successor is taking the sockets (changes are
 * refused for that moment); stopping: workers drain; stopped: done.
 */
export type KeeperState = 'running' | 'handing-over' | 'stopping' | 'stopped';

export interface KeeperOptions {
  readonly stateDir: string;
  readonly logger: RouterLogger;
  /** How long a closing listener (route removed or moved, worker draining) lets requests finish. */
  readonly drainMs: number;
  readonly workers: number;
  readonly workerEntry: URL;
  readonly version: string;
  /** Same epoch, same counters: a fresh keeper makes a new one; a successor of a keeper keeps it. */
  readonly epoch: string;
  readonly departed?: RouteCounters;
}

const FIRST_BIND_RETRY_MS = 100;
const MAX_BIND_RETRY_MS = 2_000;

interface Entry {
  spec: RouteSpec;
  /** Undefined while a restored route waits for its port (retried in the background). */
  socket: ListenSocket | undefined;
  retry?: { timer: NodeJS.Timeout; delayMs: number; error: string };
}

export function newEpoch(): string {
  return randomBytes(6).toString('hex');
}

/**
 * The router's keeper: owns the routing table and one listening socket per route, and runs the
 * workers that accept on them. It never accepts a connection itself, so a crashing worker refuses
 * none: the kernel queues connections on the sockets the keeper still holds.
 */
export class Keeper {
  readonly startedAt = Date.now();
  private readonly entries = new Map<string, Entry>();
  private readonly pool: WorkerPool;
  private changes: Promise<unknown> = Promise.resolve();
  private state: KeeperState = 'running';

  constructor(private readonly options: KeeperOptions) {
    this.pool = new WorkerPool({
      entry: options.workerEntry,
      stateDir: options.stateDir,
      logFile: routerFiles(options.stateDir).log,
      drainMs: options.drainMs,
      epoch: options.epoch,
      logger: options.logger,
      routes: { served: () => this.served() },
      ...(options.departed ? { departed: options.departed } : {}),
    });
  }

  /** A fresh keeper: serves the table the last router saved; a port still taken is retried. */
  async restore(): Promise<void> {
    const { routes, problems } = loadRouteTable(this.options.stateDir);
    for (const problem of problems) this.options.logger.warn({ problem }, 'skipped a saved route');
    for (const spec of routes) {
      const entry: Entry = { spec, socket: undefined };
      this.entries.set(spec.name, entry);
      await this.bindInBackground(entry);
    }
    this.options.logger.info({ routes: routes.length }, 'routing table restored');
  }

  /** A successor: takes the routes with the sockets its predecessor held (already listening). */
  adopt(routes: readonly RouteSpec[], sockets: ReadonlyMap<string, SocketHandle>): void {
    for (const spec of routes) {
      const handle = sockets.get(spec.name);
      const entry: Entry = {
        spec,
        socket: handle === undefined ? undefined : new ListenSocket(spec.listen, handle),
      };
      this.entries.set(spec.name, entry);
      if (entry.socket === undefined) void this.bindInBackground(entry);
    }
    this.persist();
  }

  startWorkers(count = this.options.workers): void {
    this.pool.resize(count);
  }

  /** Resolves true once a worker serves every route (false after timeoutMs). */
  whenServing(timeoutMs: number): Promise<boolean> {
    return this.pool.whenServing(timeoutMs);
  }

  /** Adds or replaces a route; a new listen address is bound before the old one is let go. */
  putRoute(spec: RouteSpec): Promise<void> {
    return this.serialize(async () => {
      this.assertRunning('put a route');
      const other = [...this.entries.values()].find(
        (e) => e.spec.name !== spec.name && isSameAddress(e.spec.listen, spec.listen),
      );
      if (other !== undefined) {
        const where = `${spec.listen.host}:${spec.listen.port}`;
        throw new FerryError(
          'FERRY_E_PORT_IN_USE',
          `listen address ${where}: expected a free port, got one used by route ${other.spec.name}`,
          { where, route: other.spec.name },
        );
      }
      const entry = this.entries.get(spec.name);
      const keepsSocket =
        entry?.socket !== undefined && isSameAddress(entry.spec.listen, spec.listen)
          ? entry.socket
          : undefined;
      const socket = keepsSocket ?? (await bindListenSocket(spec.listen));
      try {
        await this.pool.applyRoute(spec, socket);
      } catch (error) {
        if (socket !== keepsSocket) {
          // A worker could not accept on the new socket (the port was taken meanwhile): undo it.
          if (entry?.socket !== undefined)
            await this.pool.applyRoute(entry.spec, entry.socket).catch(() => undefined);
          else await this.pool.removeRoute(spec.name).catch(() => undefined);
          socket.close();
        }
        throw error;
      }
      if (entry?.retry) clearTimeout(entry.retry.timer);
      this.entries.set(spec.name, { spec, socket });
      this.persist();
      // Every worker moved to the new socket (their old listeners drain): the keeper's copy can go.
      if (entry?.socket !== undefined && entry.socket !== socket) entry.socket.close();
      this.pool.pruneDeparted(this.routes());
      if (entry === undefined)
        this.options.logger.info({ route: spec.name, listen: spec.listen }, 'route added');
      else if (socket !== keepsSocket)
        this.options.logger.info({ route: spec.name, listen: spec.listen }, 'route listens on a new address');
    });
  }

  /** Removes a route: workers stop accepting on it and finish what is in flight; its socket closes. */
  deleteRoute(name: string): Promise<boolean> {
    return this.serialize(async () => {
      this.assertRunning('delete a route');
      const entry = this.entries.get(name);
      if (entry === undefined) return false;
      this.entries.delete(name);
      if (entry.retry) clearTimeout(entry.retry.timer);
      this.persist();
      await this.pool.removeRoute(name);
      entry.socket?.close();
      this.pool.pruneDeparted(this.routes());
      this.options.logger.info({ route: name }, 'route deleted');
      return true;
    });
  }

  routes(): RouteSpec[] {
    return [...this.entries.values()].map((entry) => entry.spec);
  }

  async stats(): Promise<RouterStats> {
    const { live, departed } = await this.pool.counters();
    return {
      pid: process.pid,
      version: this.options.version,
      epoch: this.options.epoch,
      routes: mergeCounters(this.routes(), live, departed),
    };
  }

  health(): RouterHealth {
    const unbound = [...this.entries.values()].filter((e) => e.socket === undefined);
    return {
      ok: true,
      pid: process.pid,
      version: this.options.version,
      epoch: this.options.epoch,
      state: this.state,
      startedAt: this.startedAt,
      uptimeMs: Date.now() - this.startedAt,
      workers: this.pool.views(),
      spare: this.pool.spareView(),
      routes: this.entries.size,
      unbound: unbound.map((e) => ({ route: e.spec.name, error: e.retry?.error ?? 'binding' })),
    };
  }

  /** Runs `count` workers from now on. */
  setWorkers(count: number): void {
    this.assertRunning('change the worker count');
    this.pool.resize(count);
  }

  /**
   * Hands the sockets, the table and the counters to a successor keeper running `entry` (a newer
   * router). `release` stops this keeper's control API and lets go of its lock when the successor's
   * workers accept. Resolves with the successor's pid; this keeper then drains its workers and exits.
   */
  handOver(entry: URL, release: () => Promise<void>): Promise<number> {
    return this.serialize(async () => {
      this.assertRunning('hand over');
      this.state = 'handing-over';
      try {
        const counters = (await this.stats()).routes;
        const sockets = new Map<string, SocketHandle>();
        for (const [name, e] of this.entries) if (e.socket) sockets.set(name, e.socket.handle);
        return await handOver({
          stateDir: this.options.stateDir,
          entry,
          workers: this.pool.size,
          drainMs: this.options.drainMs,
          routes: this.routes(),
          sockets,
          counters: pruneDeparted(counters, this.routes()),
          epoch: this.options.epoch,
          from: 'keeper',
          release,
        });
      } catch (error) {
        this.state = 'running';
        throw error;
      }
    });
  }

  /** Stops accepting everywhere, lets workers finish their requests (bounded by drainMs), closes sockets. */
  async shutdown(drainMs = this.options.drainMs): Promise<void> {
    if (this.state === 'stopping' || this.state === 'stopped') return;
    this.state = 'stopping';
    await this.changes.catch(() => undefined);
    // The workers stop accepting as they are told; with the keeper's copies closed too, new
    // connections are refused rather than queued on a socket nobody will accept on again (a
    // successor, if any, holds copies of its own).
    await this.pool.drainAll(drainMs, () => {
      for (const entry of this.entries.values()) {
        if (entry.retry) clearTimeout(entry.retry.timer);
        entry.socket?.close();
      }
    });
    this.state = 'stopped';
  }

  private served(): Array<{ spec: RouteSpec; socket: ListenSocket }> {
    return [...this.entries.values()].flatMap((e) => (e.socket ? [{ spec: e.spec, socket: e.socket }] : []));
  }

  private async bindInBackground(entry: Entry): Promise<void> {
    const { name, listen } = entry.spec;
    try {
      const socket = await bindListenSocket(listen);
      if (this.state !== 'running' || this.entries.get(name) !== entry || entry.socket !== undefined) {
        socket.close();
        return;
      }
      entry.socket = socket;
      delete entry.retry;
      await this.pool
        .applyRoute(entry.spec, socket)
        .catch((error: unknown) =>
          this.options.logger.warn({ route: name, err: messageOf(error) }, 'a worker did not take the route'),
        );
    } catch (error) {
      // Still held, e.g. by the workers of a router that is not quite gone: try again soon.
      const delayMs = Math.min((entry.retry?.delayMs ?? FIRST_BIND_RETRY_MS / 2) * 2, MAX_BIND_RETRY_MS);
      if (entry.retry === undefined)
        this.options.logger.error({ route: name, listen, err: messageOf(error) }, 'cannot listen; retrying');
      entry.retry = {
        delayMs,
        error: messageOf(error),
        timer: setTimeout(() => {
          if (this.state === 'running' && this.entries.get(name) === entry && entry.socket === undefined)
            void this.bindInBackground(entry);
        }, delayMs),
      };
    }
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

  /** Changes run one at a time, in arrival order, so binds and table writes never interleave. */
  private serialize<T>(change: () => Promise<T>): Promise<T> {
    const result = this.changes.then(change, change);
    this.changes = result.catch(() => undefined);
    return result;
  }
}

function isSameAddress(a: ListenAddress, b: ListenAddress): boolean {
  return a.host === b.host && a.port === b.port;
}
