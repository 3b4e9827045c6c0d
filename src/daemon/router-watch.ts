import type { RouterStatusView } from '../api/types.js';
import { messageOf } from '../errors/ferry-error.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import type { EnsuredRouter } from '../router/client.js';
import type { ROUTER_STATES, RouterChangeKind, RouterReport } from '../protocol/report.js';
import type { RouterHealth } from '../router/types.js';

/** What the watch needs of the router: its health, and bringing it back. */
export interface WatchedRouter {
  health(): Promise<RouterHealth | undefined>;
  ensureRunning(): Promise<EnsuredRouter>;
}

/** running: the keeper answers; restarting: it does not, and is being brought back; down: that failed. */
export type RouterWatchState = (typeof ROUTER_STATES)[number];

/** The router as `ferry status` shows it: the API's view, one shape for both. */
export type RouterStatus = RouterStatusView;

export interface RouterWatchOptions {
  readonly router: WatchedRouter;
  readonly clock: Clock;
  /** The keeper was replaced: push every route again, so its table is the daemon's. */
  readonly onReplaced: (pid: number) => Promise<void>;
  /** Something worth an operator's eye (also printed by `ferry up`), and its end. */
  readonly onProblem: (message: string) => void;
  readonly onRecovered: (message: string) => void;
  /** Each change of the router process tree, for the event stream. */
  readonly onChange?: (change: RouterChange) => void;
  readonly intervalMs?: number;
}

/** A change of the router process tree as the event stream shows it. */
export interface RouterChange {
  readonly change: RouterChangeKind;
  /** The keeper's pid, or the restarted worker's. */
  readonly pid: number | null;
  readonly message: string;
}

const CHECK_EVERY_MS = 1_000;
const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 30_000;

/**
 * The daemon's eye on the router: checks the keeper every second. A keeper that stopped answering
 * is brought back (its workers hand their sockets to a successor by themselves; ensureRunning waits
 * for that, or starts a new keeper when nothing of the router is left), with backoff while that
 * fails. Every replacement re-pushes the routes. Problems reach the daemon's log and output.
 */
export class RouterWatch {
  private timer: TimerHandle | undefined;
  private stopped = true;
  private last: RouterHealth | undefined;
  private state: RouterWatchState = 'running';
  private restarts = 0;
  private error: string | null = null;
  private retryMs = FIRST_RETRY_MS;
  private nextAttemptAt = 0;
  private reported: string | null = null;

  constructor(private readonly options: RouterWatchOptions) {}

  /** Starts watching a keeper the daemon just ensured. */
  start(health: RouterHealth | undefined): void {
    this.last = health;
    this.stopped = false;
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.options.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  status(): RouterStatus {
    return routerStatusOf(this.report(), this.options.clock.now());
  }

  /** The router as the host's report carries it: its state and process tree (times as instants). */
  report(): RouterReport {
    const h = this.last;
    return {
      state: this.state,
      pid: h?.pid ?? null,
      restarts: this.restarts,
      error: this.error,
      version: h?.version ?? null,
      startedAt: h?.startedAt ?? null,
      workers: (h?.workers ?? []).map(({ pid, state, startedAt, restarts, crashLoop }) => ({
        pid,
        state,
        startedAt,
        restarts,
        crashLoop,
      })),
      spare: h?.spare ?? null,
    };
  }

  /** One look at the router (also called by the timer). */
  async check(): Promise<void> {
    const health = await this.options.router.health();
    if (health !== undefined) return this.seen(health);
    const now = this.options.clock.now();
    if (this.state === 'running') {
      this.state = 'restarting';
      const message = `the router (keeper pid ${this.last?.pid ?? '?'}) does not answer; bringing it back`;
      this.problem(message);
      this.options.onChange?.({ change: 'keeper-down', pid: this.last?.pid ?? null, message });
    }
    if (now < this.nextAttemptAt) return;
    try {
      await this.options.router.ensureRunning();
      const back = await this.options.router.health();
      if (back === undefined) throw new Error('it started but does not answer');
      await this.seen(back);
    } catch (error) {
      this.state = 'down';
      this.nextAttemptAt = now + this.retryMs;
      const message = `the router cannot come back: ${messageOf(error)}; next try in ${this.retryMs / 1000}s`;
      if (this.reported !== message)
        this.options.onChange?.({ change: 'keeper-unrecoverable', pid: null, message });
      this.problem(message);
      this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
    }
  }

  private async seen(health: RouterHealth): Promise<void> {
    const before = this.last;
    const replaced = before !== undefined && before.pid !== health.pid;
    this.last = health;
    if (before !== undefined && !replaced) this.reportWorkerRestarts(before, health);
    this.retryMs = FIRST_RETRY_MS;
    this.nextAttemptAt = 0;
    const wasDown = this.state !== 'running';
    this.state = 'running';
    if (replaced) {
      this.restarts += 1;
      this.options.onChange?.({
        change: 'keeper-replaced',
        pid: health.pid,
        message: `the router keeper was replaced (pid ${before.pid} -> ${health.pid}); every route is pushed again`,
      });
      try {
        await this.options.onReplaced(health.pid);
      } catch (error) {
        const message = `the new router (pid ${health.pid}) did not take the routes: ${messageOf(error)}`;
        if (this.reported !== message)
          this.options.onChange?.({ change: 'trouble', pid: health.pid, message });
        this.problem(message);
      }
    }
    const trouble = describeTrouble(health);
    if (trouble !== null) {
      if (this.reported !== trouble)
        this.options.onChange?.({ change: 'trouble', pid: health.pid, message: trouble });
      this.problem(trouble);
    } else if (wasDown || this.error !== null) {
      const message = `the router serves again (keeper pid ${health.pid})`;
      this.recovered(message);
      this.options.onChange?.({ change: 'recovered', pid: health.pid, message });
    }
  }

  /** A worker of the same keeper counted more restarts than at the last look: it died and was replaced. */
  private reportWorkerRestarts(before: RouterHealth, now: RouterHealth): void {
    for (const worker of now.workers) {
      const earlier = before.workers.find((w) => w.rank === worker.rank);
      if (earlier === undefined || worker.restarts <= earlier.restarts) continue;
      this.options.onChange?.({
        change: 'worker-restarted',
        pid: worker.pid,
        message: `router worker ${worker.rank} was replaced (pid ${earlier.pid ?? '?'} -> ${worker.pid ?? '?'}; ${worker.lastExit ?? 'no exit status'}), restart ${worker.restarts}`,
      });
    }
  }

  private problem(message: string): void {
    this.error = message;
    if (this.reported === message) return;
    this.reported = message;
    this.options.onProblem(message);
  }

  private recovered(message: string): void {
    this.error = null;
    this.reported = null;
    this.options.onRecovered(message);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.options.clock.setTimeout(() => {
      void this.check().finally(() => this.schedule());
    }, this.options.intervalMs ?? CHECK_EVERY_MS);
  }
}

/** A live keeper can still be unwell: a worker crash-looping, none serving, a route without its port. */
function describeTrouble(health: RouterHealth): string | null {
  const looping = health.workers.filter((w) => w.crashLoop);
  if (looping.length > 0)
    return `router worker ${looping.map((w) => w.rank).join(', ')} keeps dying (${looping[0]!.lastExit ?? 'no exit status'}); restarting with backoff`;
  if (health.workers.length > 0 && !health.workers.some((w) => w.state === 'up'))
    return 'no router worker is serving; they are being restarted';
  const unbound = health.unbound[0];
  if (unbound !== undefined) return `route ${unbound.route} cannot listen: ${unbound.error}`;
  return null;
}

/** The router before its watch began (the daemon starting). */
const STARTING_ROUTER: RouterStatus = {
  state: 'restarting',
  pid: null,
  version: null,
  uptimeMs: null,
  restarts: 0,
  workers: [],
  spare: null,
  error: null,
};

/**
 * Pure: a host's router as `ferry status` shows it, from the host's report (null: not reported
 * yet, the router starting); uptimes against `now`. One view of the server's own host and of any.
 */
export function routerStatusOf(report: RouterReport | null | undefined, now: number): RouterStatus {
  if (report === null || report === undefined) return STARTING_ROUTER;
  const since = (at: number | null | undefined) =>
    at === null || at === undefined ? null : Math.max(0, now - at);
  return {
    state: report.state,
    pid: report.pid,
    version: report.version ?? null,
    uptimeMs: report.state === 'running' ? since(report.startedAt) : null,
    restarts: report.restarts,
    workers: (report.workers ?? []).map((w) => ({
      pid: w.pid,
      state: w.state,
      uptimeMs: since(w.startedAt),
      restarts: w.restarts,
      crashLoop: w.crashLoop,
    })),
    spare: report.spare ?? null,
    error: report.error,
  };
}
