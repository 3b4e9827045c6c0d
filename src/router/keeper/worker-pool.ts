import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { FerryError, messageOf } from '../../errors/ferry-error.js';
import { nodeArgsFor } from '../../lib/entry.js';
import { isMessage, type KeeperMessage, type WorkerMessage } from '../ipc.js';
import type { ListenSocket } from './listen-socket.js';
import type { RouterLogger } from '../worker/router.js';
import { addDeparted, pruneDeparted, type RouteCounters } from './stats-merge.js';
import type { RouteSpec } from '../types.js';
import { planWorkerRestart } from './worker-restarts.js';

/** A worker that does not answer a request within this is wedged: it is killed and restarted. */
const ANSWER_DEADLINE_MS = 5_000;
const STATS_DEADLINE_MS = 1_000;
/** How long a draining worker may take beyond its drain time before it is killed. */
const EXIT_GRACE_MS = 5_000;
/** The spare's rank: it holds every socket but accepts on none until it takes a dead worker's place. */
const SPARE = -1;

/** What the pool needs from the keeper's table: every route with the socket it is served on. */
export interface ServedRoutes {
  served(): ServedRoute[];
}

export interface ServedRoute {
  readonly spec: RouteSpec;
  readonly socket: ListenSocket;
}

/**
 * starting: spawned, loading; syncing: receiving the table; up: serving every route (or, for the
 * spare, ready to); draining: told to finish and exit; gone: exited.
 */
export type WorkerState = 'starting' | 'syncing' | 'up' | 'draining' | 'gone';

interface Worker {
  rank: number;
  readonly child: ChildProcess;
  readonly pid: number;
  startedAt: number;
  state: WorkerState;
  /** Per route, the id of the socket this worker holds (and accepts on, unless it is the spare). */
  readonly sockets: Map<string, string>;
  /** Its counters at the last question, added to the departed ones when it dies. */
  last: RouteCounters;
  readonly pending: Map<number, { resolve(message: WorkerMessage): void; reject(error: Error): void }>;
  readonly exited: Promise<void>;
}

interface Slot {
  readonly rank: number;
  worker: Worker | null;
  restarts: number;
  recentRestarts: readonly number[];
  crashLoop: boolean;
  restartTimer: NodeJS.Timeout | null;
  lastExit: string | null;
}

export interface WorkerView {
  readonly rank: number;
  readonly pid: number | null;
  readonly state: WorkerState | 'restarting';
  readonly startedAt: number | null;
  readonly restarts: number;
  readonly crashLoop: boolean;
  readonly lastExit: string | null;
}

export interface WorkerPoolOptions {
  readonly entry: URL;
  readonly stateDir: string;
  readonly logFile: string;
  readonly drainMs: number;
  /** The keeper's counter epoch, passed to workers (a rescued keeper starts a new one). */
  readonly epoch: string;
  readonly logger: RouterLogger;
  readonly routes: ServedRoutes;
  /** Counters of workers that are gone, carried over from a predecessor. */
  readonly departed?: RouteCounters;
}

/**
 * The keeper's workers: spawns them, hands each the table with the listening sockets, replaces one
 * that dies, and asks them for their counters. A warm spare, loaded and holding every socket
 * without accepting, takes a dead worker's place at once, so even when every worker dies the
 * sockets are accepted on again within milliseconds; a new spare then starts (with backoff when
 * workers keep dying).
 */
export class WorkerPool {
  private readonly slots: Slot[] = [];
  private spare: Worker | null = null;
  private spareTimer: NodeJS.Timeout | null = null;
  private spareRecent: readonly number[] = [];
  private departed: RouteCounters;
  /** Workers told to drain: still counted live until they exit (then their last counts depart). */
  private readonly draining = new Set<Worker>();
  /**
   * Routes being applied, not yet in the keeper's table: a worker that syncs meanwhile was not
   * among those applyRoute sent them to, so it takes them from here (or it would never get them).
   */
  private readonly applying = new Map<string, ServedRoute>();
  private seq = 0;
  private stopping = false;

  constructor(private readonly options: WorkerPoolOptions) {
    this.departed = options.departed ?? {};
  }

  /** Runs `count` workers (more are started, extra ones drain and exit), and a spare. */
  resize(count: number): void {
    while (this.slots.length < count) {
      const slot: Slot = {
        rank: this.slots.length,
        worker: null,
        restarts: 0,
        recentRestarts: [],
        crashLoop: false,
        restartTimer: null,
        lastExit: null,
      };
      this.slots.push(slot);
      slot.worker = this.launch(slot.rank);
    }
    while (this.slots.length > count) {
      const slot = this.slots.pop()!;
      if (slot.restartTimer) clearTimeout(slot.restartTimer);
      if (slot.worker) void this.drainWorker(slot.worker, this.options.drainMs);
    }
    if (this.spare === null && this.spareTimer === null) this.spare = this.launch(SPARE);
  }

  get size(): number {
    return this.slots.length;
  }

  /** Resolves once at least one worker serves every route, or after timeoutMs (false). */
  async whenServing(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.slots.some((slot) => slot.worker?.state === 'up')) {
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return true;
  }

  /** Sends a route to every worker (and the spare) and waits: then it is served everywhere. */
  async applyRoute(spec: RouteSpec, socket: ListenSocket): Promise<void> {
    const route = { spec, socket };
    this.applying.set(spec.name, route);
    try {
      await Promise.all(this.syncedWorkers().map((worker) => this.sendRoute(worker, spec, socket)));
    } finally {
      if (this.applying.get(spec.name) === route) this.applying.delete(spec.name);
    }
  }

  async removeRoute(name: string): Promise<void> {
    await Promise.all(
      this.syncedWorkers().map((worker) => {
        worker.sockets.delete(name);
        return this.request(worker, { type: 'remove-route', seq: 0, name });
      }),
    );
  }

  /** Every live worker's counters (a silent one is represented by its last answer) and the departed ones. */
  async counters(): Promise<{ live: RouteCounters[]; departed: RouteCounters }> {
    // A draining worker still finishes requests: leaving it out would make the sums dip until it exits.
    const leaving = [...this.draining].filter((worker) => worker.state === 'draining');
    const workers = [...this.activeWorkers(), ...leaving];
    const live = await Promise.all(
      workers.map(async (worker) => {
        try {
          const answer = await this.request(worker, { type: 'stats', seq: 0 }, STATS_DEADLINE_MS, false);
          if (answer.type === 'stats') worker.last = answer.routes;
        } catch {
          // Busy or dying: its previous counts stand in.
        }
        return worker.last;
      }),
    );
    return { live, departed: this.departed };
  }

  /** Forgets departed counters of routes and backends no longer in the table. */
  pruneDeparted(table: readonly RouteSpec[]): void {
    this.departed = pruneDeparted(this.departed, table);
  }

  views(): WorkerView[] {
    return this.slots.map((slot) => ({
      rank: slot.rank,
      pid: slot.worker?.pid ?? null,
      state: slot.worker?.state ?? 'restarting',
      startedAt: slot.worker?.startedAt ?? null,
      restarts: slot.restarts,
      crashLoop: slot.crashLoop,
      lastExit: slot.lastExit,
    }));
  }

  /** The spare, as health reports it. */
  spareView(): { pid: number | null; state: WorkerState | 'restarting' } {
    return { pid: this.spare?.pid ?? null, state: this.spare?.state ?? 'restarting' };
  }

  /**
   * Stops every worker: they stop accepting, finish in flight (at most drainMs), and exit.
   * `told` runs once every worker was told, before they are done.
   */
  async drainAll(drainMs: number, told: () => void = () => undefined): Promise<void> {
    this.stopping = true;
    for (const slot of this.slots) if (slot.restartTimer) clearTimeout(slot.restartTimer);
    if (this.spareTimer) clearTimeout(this.spareTimer);
    const workers = [
      ...this.slots.flatMap((slot) => (slot.worker ? [slot.worker] : [])),
      ...(this.spare ? [this.spare] : []),
    ];
    const exits = workers.map((worker) => this.drainWorker(worker, drainMs));
    told();
    await Promise.all(exits);
  }

  private activeWorkers(): Worker[] {
    return this.slots.flatMap((slot) =>
      slot.worker && (slot.worker.state === 'up' || slot.worker.state === 'syncing') ? [slot.worker] : [],
    );
  }

  /** Workers that hold the table: the active ones and the spare. */
  private syncedWorkers(): Worker[] {
    const spare =
      this.spare && (this.spare.state === 'up' || this.spare.state === 'syncing') ? [this.spare] : [];
    return [...this.activeWorkers(), ...spare];
  }

  private launch(rank: number): Worker | null {
    if (this.stopping) return null;
    let child: ChildProcess;
    const log = openSync(this.options.logFile, 'a');
    try {
      // --state-dir is only read by people and `ferry down`, which find router processes by it.
      child = spawn(
        process.execPath,
        [...nodeArgsFor(this.options.entry), '--state-dir', this.options.stateDir],
        {
          stdio: ['ignore', log, log, 'ipc'],
        },
      );
    } finally {
      closeSync(log);
    }
    const worker: Worker = {
      rank,
      child,
      pid: child.pid ?? -1,
      startedAt: Date.now(),
      state: 'starting',
      sockets: new Map(),
      last: {},
      pending: new Map(),
      exited: new Promise((resolve) => child.once('exit', () => resolve())),
    };
    child.on('error', (error) =>
      this.options.logger.error({ worker: worker.pid, err: messageOf(error) }, 'router worker error'),
    );
    if (child.pid === undefined) {
      // Could not spawn (out of processes or memory): counted as a death, so the backoff applies.
      setImmediate(() => this.onExit(worker, null, null));
      return worker;
    }
    child.on('message', (message: unknown) => this.onMessage(worker, message));
    child.once('exit', (code, signal) => this.onExit(worker, code, signal));
    return worker;
  }

  private onMessage(worker: Worker, message: unknown): void {
    if (!isMessage<WorkerMessage>(message)) return;
    if (message.type === 'ready') {
      void this.sync(worker);
      return;
    }
    const pending = worker.pending.get(message.seq);
    if (pending === undefined) return;
    worker.pending.delete(message.seq);
    if (message.type === 'ack' && message.error !== undefined) {
      pending.reject(
        new FerryError('FERRY_E_INTERNAL', `router worker ${worker.pid}: ${message.error.message}`),
      );
    } else {
      pending.resolve(message);
    }
  }

  /** A new worker gets its rank and the whole table, then counts as up. */
  private async sync(worker: Worker): Promise<void> {
    if (worker.state !== 'starting') return;
    worker.state = 'syncing';
    this.post(worker, {
      type: 'hello',
      rank: worker.rank,
      standby: worker.rank === SPARE,
      workers: this.slots.length,
      stateDir: this.options.stateDir,
      drainMs: this.options.drainMs,
      epoch: this.options.epoch,
    });
    try {
      const table = new Map(this.options.routes.served().map((route) => [route.spec.name, route]));
      for (const [name, route] of this.applying) table.set(name, route);
      for (const { spec, socket } of table.values()) await this.sendRoute(worker, spec, socket);
      if (worker.state === 'syncing') worker.state = 'up';
      this.options.logger.info(
        { worker: worker.pid, rank: worker.rank },
        worker.rank === SPARE ? 'router spare ready' : 'router worker serving',
      );
    } catch (error) {
      this.options.logger.error(
        { worker: worker.pid, err: messageOf(error) },
        'router worker failed to sync',
      );
      worker.child.kill('SIGKILL');
    }
  }

  private async sendRoute(worker: Worker, spec: RouteSpec, socket: ListenSocket): Promise<void> {
    // Marked before sending: a concurrent change must not send the same handle twice.
    const previous = worker.sockets.get(spec.name);
    const fresh = previous !== socket.id;
    worker.sockets.set(spec.name, socket.id);
    try {
      await this.request(
        worker,
        { type: 'route', seq: 0, spec, socket: socket.id },
        ANSWER_DEADLINE_MS,
        true,
        fresh ? socket : undefined,
      );
    } catch (error) {
      if (previous === undefined) worker.sockets.delete(spec.name);
      else worker.sockets.set(spec.name, previous);
      throw error;
    }
  }

  /**
   * One request to a worker, answered by seq. A worker silent past the deadline is killed when
   * `killIfSilent` (a wedged worker must not hold a route change forever); it is replaced.
   */
  private request(
    worker: Worker,
    message: Extract<KeeperMessage, { seq: number }>,
    timeoutMs = ANSWER_DEADLINE_MS,
    killIfSilent = true,
    socket?: ListenSocket,
  ): Promise<WorkerMessage> {
    const seq = ++this.seq;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        worker.pending.delete(seq);
        if (killIfSilent) {
          this.options.logger.error(
            { worker: worker.pid, request: message.type },
            'router worker did not answer; killing it',
          );
          worker.child.kill('SIGKILL');
        }
        reject(
          new FerryError(
            'FERRY_E_ROUTER_UNREACHABLE',
            `router worker ${worker.pid} did not answer ${message.type} within ${timeoutMs}ms`,
          ),
        );
      }, timeoutMs);
      worker.pending.set(seq, {
        resolve: (answer) => {
          clearTimeout(timer);
          resolve(answer);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.post(worker, { ...message, seq }, socket);
    });
  }

  private post(worker: Worker, message: KeeperMessage, socket?: ListenSocket): void {
    if (!worker.child.connected) return;
    const handle = socket?.handle as Parameters<ChildProcess['send']>[1];
    worker.child.send(message, handle, (error) => {
      if (error)
        this.options.logger.warn(
          { worker: worker.pid, err: messageOf(error) },
          'message to a router worker lost',
        );
    });
  }

  private onExit(worker: Worker, code: number | null, signal: NodeJS.Signals | null): void {
    if (worker.state === 'gone') return;
    const wasDraining = worker.state === 'draining';
    worker.state = 'gone';
    this.departed = addDeparted(this.departed, worker.last);
    for (const pending of worker.pending.values())
      pending.reject(new FerryError('FERRY_E_ROUTER_UNREACHABLE', `router worker ${worker.pid} exited`));
    worker.pending.clear();
    if (wasDraining || this.stopping) return;
    const ranMs = Date.now() - worker.startedAt;
    const why =
      worker.pid === -1 ? 'could not be spawned' : `exited with ${signal ?? `code ${code}`} after ${ranMs}ms`;
    if (worker.rank === SPARE) {
      if (this.spare !== worker && this.spare !== null) return;
      this.spare = null;
      this.options.logger.error({ worker: worker.pid, exit: why }, 'router spare died; starting another');
      this.replaceSpare(ranMs);
      return;
    }
    const slot = this.slots.find((s) => s.worker === worker);
    if (slot === undefined) return;
    slot.worker = null;
    slot.lastExit = why;
    this.options.logger.error(
      { worker: worker.pid, rank: slot.rank, exit: why },
      'router worker died; replacing it',
    );
    this.replaceWorker(slot, ranMs);
  }

  /** The spare takes the dead worker's place at once when it is ready; else a new worker starts. */
  private replaceWorker(slot: Slot, ranMs: number): void {
    const plan = planWorkerRestart(slot.recentRestarts, { at: Date.now(), ranMs });
    slot.recentRestarts = plan.recent;
    if (plan.crashLoop && !slot.crashLoop)
      this.options.logger.error(
        { rank: slot.rank, why: slot.lastExit },
        'router worker keeps dying; backing off',
      );
    slot.crashLoop = plan.crashLoop;
    slot.restarts += 1;
    // A warm spare costs nothing to promote; the backoff applies to starting new processes.
    const spare = this.spare;
    if (spare !== null && spare.state === 'up') {
      this.spare = null;
      void this.promote(spare, slot);
      this.replaceSpare(ranMs);
      return;
    }
    slot.restartTimer = setTimeout(() => {
      slot.restartTimer = null;
      if (this.slots.includes(slot)) slot.worker = this.launch(slot.rank);
    }, plan.delayMs);
  }

  private async promote(spare: Worker, slot: Slot): Promise<void> {
    spare.rank = slot.rank;
    spare.startedAt = Date.now();
    slot.worker = spare;
    try {
      await this.request(spare, { type: 'activate', seq: 0, rank: slot.rank, workers: this.slots.length });
      this.options.logger.info(
        { worker: spare.pid, rank: slot.rank },
        "the spare took a dead worker's place",
      );
    } catch (error) {
      this.options.logger.error(
        { worker: spare.pid, err: messageOf(error) },
        'the spare could not take over',
      );
      spare.child.kill('SIGKILL');
    }
  }

  /** A new spare, at once or after the backoff that keeps repeated deaths from spinning a core. */
  private replaceSpare(ranMs: number): void {
    if (this.stopping || this.spareTimer !== null) return;
    const plan = planWorkerRestart(this.spareRecent, { at: Date.now(), ranMs });
    this.spareRecent = plan.recent;
    this.spareTimer = setTimeout(() => {
      this.spareTimer = null;
      if (this.spare === null) this.spare = this.launch(SPARE);
    }, plan.delayMs);
  }

  private async drainWorker(worker: Worker, drainMs: number): Promise<void> {
    if (worker.state === 'gone') return;
    worker.state = 'draining';
    this.draining.add(worker);
    this.post(worker, { type: 'drain', drainMs });
    const kill = setTimeout(() => worker.child.kill('SIGKILL'), drainMs + EXIT_GRACE_MS);
    await worker.exited;
    clearTimeout(kill);
    this.draining.delete(worker);
  }
}
