import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { catalog, type ErrorCode } from '../errors/catalog.js';
import { FerryError, messageOf } from '../errors/ferry-error.js';
import { nodeArgsFor, siblingEntry } from '../lib/entry.js';
import { FERRY_VERSION } from '../lib/version.js';
import { controlRequest, type ControlResponse } from './control-request.js';
import { findRouterProcesses, isAlive, isRouterProcess, readPidFile, routerFiles } from './state-dir.js';
import type { RouteSpec, RouterHealth, RouterStats } from './types.js';

export interface RouterClientLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** How the router came to run: reused as it was, started, or replaced by this version's (handover). */
export interface EnsuredRouter {
  readonly pid: number;
  readonly started: boolean;
  readonly upgradedFrom?: string;
}

const START_DEADLINE_MS = 20_000;
const HANDOVER_DEADLINE_MS = 60_000;
/** Workers of rank 0 rescue at once, others after 2 s each; a successor takes a moment to start. */
const RESCUE_WAIT_MS = 15_000;
const STOP_DEADLINE_MS = 20_000;
const POLL_MS = 25;
const DRAIN_POLL_MS = 100;

/**
 * The daemon's handle on the router process of one state directory: starts it (detached, so it
 * outlives the daemon), changes its routes and reads its stats over the control socket.
 */
export class RouterClient {
  private readonly stateDir: string;
  private readonly files: ReturnType<typeof routerFiles>;
  private readonly logger: RouterClientLogger | undefined;
  private readonly workers: number;
  private readonly version: string;
  private starting: Promise<EnsuredRouter> | undefined;
  private readonly statsReaders = new Set<(stats: RouterStats) => void>();

  constructor(opts: { stateDir: string; logger?: RouterClientLogger; workers?: number; version?: string }) {
    this.stateDir = opts.stateDir;
    this.files = routerFiles(opts.stateDir);
    this.logger = opts.logger;
    this.workers = opts.workers ?? 1;
    this.version = opts.version ?? FERRY_VERSION;
  }

  /**
   * Reuses the live router of the state directory, or starts one and waits until it answers. A
   * router of another Ferry version hands its sockets over to this version's (no request fails).
   */
  ensureRunning(): Promise<EnsuredRouter> {
    // One start at a time from this process: two spawns would fight over the socket.
    this.starting ??= this.startOrReuse().finally(() => (this.starting = undefined));
    return this.starting;
  }

  /** The keeper's health (pid, version, workers and their restarts), or undefined when it does not answer. */
  async health(timeoutMs = 2000): Promise<RouterHealth | undefined> {
    try {
      const response = await controlRequest(this.files.socket, 'GET', '/healthz', undefined, timeoutMs);
      const body = response.body as Partial<RouterHealth> | undefined;
      return response.status === 200 && typeof body?.pid === 'number' ? (body as RouterHealth) : undefined;
    } catch {
      return undefined;
    }
  }

  /** The keeper's pid from its pid file, if that process is alive (it may not answer yet). */
  keeperPid(): number | undefined {
    const pid = readPidFile(this.files.pid);
    return pid !== undefined && isRouterProcess(pid) ? pid : undefined;
  }

  async putRoute(spec: RouteSpec): Promise<void> {
    await this.call('PUT', `/routes/${encodeURIComponent(spec.name)}`, spec);
  }

  async deleteRoute(name: string): Promise<void> {
    await this.call('DELETE', `/routes/${encodeURIComponent(name)}`);
  }

  async routes(): Promise<RouteSpec[]> {
    return (await this.call('GET', '/routes')) as RouteSpec[];
  }

  async stats(): Promise<RouterStats> {
    const stats = (await this.call('GET', '/stats')) as RouterStats;
    for (const reader of this.statsReaders) reader(stats);
    return stats;
  }

  /**
   * Calls `reader` with every reading of the stats, whoever asked for it (the canary analysis, a
   * drain, a metrics scrape): the metrics' totals see every count a reading saw.
   */
  onStats(reader: (stats: RouterStats) => void): () => void {
    this.statsReaders.add(reader);
    return () => this.statsReaders.delete(reader);
  }

  /** Polls the stats until none of the named backends has a request in flight; false on timeout. */
  async waitDrained(route: string, backendIds: string[], timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const backends = (await this.stats()).routes[route]?.backends ?? [];
      const busy = backends.some((b) => backendIds.includes(b.id) && b.inFlight > 0);
      if (!busy) return true;
      if (Date.now() >= deadline) return false;
      await delay(Math.min(DRAIN_POLL_MS, Math.max(1, deadline - Date.now())));
    }
  }

  /**
   * Sends SIGTERM to the keeper (its workers finish their requests and exit with it) and waits
   * (SIGKILL after a deadline); then stops any router process of the state directory still left,
   * such as the workers of a keeper that was killed. Says what it stopped: the keeper's pid (null
   * when none ran) and how many processes were left besides.
   */
  async stop(): Promise<{ keeperPid: number | null; others: number }> {
    const pid = (await this.livePid()) ?? this.keeperPid();
    let keeperPid: number | null = null;
    if (pid !== undefined && isAlive(pid)) {
      keeperPid = pid;
      process.kill(pid, 'SIGTERM');
      if (!(await waitForExit(pid, STOP_DEADLINE_MS))) {
        this.logger?.warn({ pid }, 'router did not stop in time; killing it');
        process.kill(pid, 'SIGKILL');
        await waitForExit(pid, STOP_DEADLINE_MS);
      }
    }
    const left = findRouterProcesses(this.stateDir);
    for (const other of left) signal(other, 'SIGTERM');
    for (const other of left) {
      if (!(await waitForExit(other, STOP_DEADLINE_MS))) signal(other, 'SIGKILL');
    }
    return { keeperPid, others: left.length };
  }

  private async startOrReuse(): Promise<EnsuredRouter> {
    const live = (await this.health()) ?? (await this.rescued());
    if (live !== undefined) return this.reuse(live);
    return { pid: await this.spawnKeeper(), started: true };
  }

  /**
   * No keeper answers, but router processes of this state directory run: the workers of a keeper
   * that died, handing their sockets to a successor. A keeper started now could not take the
   * ports they hold, so wait for that successor instead.
   */
  private async rescued(): Promise<RouterHealth | undefined> {
    const deadline = Date.now() + RESCUE_WAIT_MS;
    while (findRouterProcesses(this.stateDir).length > 0 && Date.now() < deadline) {
      const health = await this.health();
      if (health !== undefined) return health;
      await delay(POLL_MS * 4);
    }
    return undefined;
  }

  /** A live router: kept if it is this version's, else replaced (handover, or restart for a pre-keeper one). */
  private async reuse(live: RouterHealth): Promise<EnsuredRouter> {
    if (live.version === this.version) {
      if (live.workers.length !== this.workers) await this.call('PUT', '/workers', { count: this.workers });
      return { pid: live.pid, started: false };
    }
    if (typeof live.version !== 'string') {
      // A router from before the keeper cannot hand its sockets over: restarting it is the only way.
      this.logger?.warn(
        { pid: live.pid },
        'replacing a router without a keeper: connections are refused for a moment',
      );
      await this.stop();
      return { pid: await this.spawnKeeper(), started: true, upgradedFrom: 'unknown' };
    }
    const entry = fileURLToPath(siblingEntry(import.meta.url, './keeper/main'));
    this.logger?.info(
      { pid: live.pid, from: live.version, to: this.version },
      'handing the router over to this version',
    );
    const answer = (await this.call('POST', '/handover', { entry }, HANDOVER_DEADLINE_MS)) as { pid: number };
    const pid = await this.waitForKeeper((health) => health.pid === answer.pid);
    if (this.workers !== live.workers.length) await this.call('PUT', '/workers', { count: this.workers });
    return { pid, started: false, upgradedFrom: live.version };
  }

  private async spawnKeeper(): Promise<number> {
    mkdirSync(this.stateDir, { recursive: true, mode: 0o700 });
    const log = openSync(this.files.log, 'a');
    let exited: string | undefined;
    try {
      const child = spawn(
        process.execPath,
        [
          ...nodeArgsFor(siblingEntry(import.meta.url, './keeper/main')),
          '--state-dir',
          this.stateDir,
          '--workers',
          String(this.workers),
        ],
        { detached: true, stdio: ['ignore', log, log] },
      );
      child.once('error', (error) => (exited = messageOf(error)));
      child.once('exit', (code, signal) => (exited = `exited with ${signal ?? `code ${code}`}`));
      child.unref();
    } finally {
      closeSync(log);
    }
    try {
      const pid = await this.waitForKeeper(
        () => true,
        () => exited !== undefined && this.keeperPid() === undefined,
      );
      this.logger?.info({ pid, stateDir: this.stateDir }, 'router started');
      return pid;
    } catch (error) {
      throw new FerryError(
        'FERRY_E_ROUTER_UNREACHABLE',
        `router for ${this.stateDir}: expected it to answer within ${START_DEADLINE_MS}ms, got ${exited ?? messageOf(error)}` +
          `; last log lines:\n${lastLines(this.files.log, 10)}`,
        { where: this.files.socket, got: exited ?? 'no answer' },
      );
    }
  }

  /** Polls the keeper until `accept` holds for its health; gives up early when `hopeless` says so. */
  private async waitForKeeper(
    accept: (health: RouterHealth) => boolean,
    hopeless: () => boolean = () => false,
  ): Promise<number> {
    const deadline = Date.now() + START_DEADLINE_MS;
    while (Date.now() < deadline) {
      const health = await this.health();
      if (health !== undefined && accept(health)) return health.pid;
      if (hopeless()) break;
      await delay(POLL_MS);
    }
    throw new Error('no answer');
  }

  private async livePid(): Promise<number | undefined> {
    return (await this.health())?.pid;
  }

  private async call(method: string, path: string, body?: unknown, timeoutMs?: number): Promise<unknown> {
    let response: ControlResponse;
    try {
      response = await controlRequest(this.files.socket, method, path, body, timeoutMs);
    } catch (error) {
      throw new FerryError(
        'FERRY_E_ROUTER_UNREACHABLE',
        `router control socket ${this.files.socket}: expected an answer to ${method} ${path}, got ${messageOf(error)}`,
        { where: this.files.socket },
        { cause: error },
      );
    }
    if (response.status >= 200 && response.status < 300) return response.body;
    throw errorFromResponse(response, `${method} ${path}`);
  }
}

/** Rebuilds the router's FerryError (PORT_IN_USE, USAGE...) so callers can branch on its code. */
function errorFromResponse(response: ControlResponse, request: string): FerryError {
  const body = response.body as { code?: unknown; message?: unknown; details?: unknown } | undefined;
  const code =
    typeof body?.code === 'string' && body.code in catalog ? (body.code as ErrorCode) : 'FERRY_E_INTERNAL';
  const message =
    typeof body?.message === 'string' ? body.message : `router answered ${request} with ${response.status}`;
  const details =
    typeof body?.details === 'object' && body.details !== null
      ? (body.details as Record<string, unknown>)
      : {};
  return new FerryError(code, message, details);
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await delay(POLL_MS);
  }
  return true;
}

function lastLines(path: string, count: number): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-count).join('\n');
  } catch {
    return '(no log)';
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}
