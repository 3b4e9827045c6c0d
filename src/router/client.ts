import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { catalog, type ErrorCode } from '../errors/catalog.js';
import { FerryError, messageOf } from '../errors/ferry-error.js';
import { nodeArgsFor, siblingEntry } from '../lib/entry.js';
import { controlRequest, type ControlResponse } from './control-request.js';
import { isAlive, isRouterProcess, readPidFile, routerFiles } from './state-dir.js';
import type { RouteSpec, RouterStats } from './types.js';

export interface RouterClientLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

const START_DEADLINE_MS = 10_000;
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
  private starting: Promise<{ pid: number; started: boolean }> | undefined;

  constructor(opts: { stateDir: string; logger?: RouterClientLogger }) {
    this.stateDir = opts.stateDir;
    this.files = routerFiles(opts.stateDir);
    this.logger = opts.logger;
  }

  /** Reuses the live router of the state directory, or starts one and waits until it answers. */
  ensureRunning(): Promise<{ pid: number; started: boolean }> {
    // One start at a time from this process: two spawns would fight over the socket.
    this.starting ??= this.startOrReuse().finally(() => (this.starting = undefined));
    return this.starting;
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
    return (await this.call('GET', '/stats')) as RouterStats;
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

  /** Sends SIGTERM to the router and waits until it exited (SIGKILL after a deadline). */
  async stop(): Promise<void> {
    const pid = (await this.livePid()) ?? readPidFile(this.files.pid);
    if (pid === undefined || !isAlive(pid)) return;
    process.kill(pid, 'SIGTERM');
    if (await waitForExit(pid, STOP_DEADLINE_MS)) return;
    this.logger?.warn({ pid }, 'router did not stop in time; killing it');
    process.kill(pid, 'SIGKILL');
    await waitForExit(pid, STOP_DEADLINE_MS);
  }

  private async startOrReuse(): Promise<{ pid: number; started: boolean }> {
    const live = await this.livePid();
    if (live !== undefined) return { pid: live, started: false };
    mkdirSync(this.stateDir, { recursive: true, mode: 0o700 });
    const log = openSync(this.files.log, 'a');
    let exited: string | undefined;
    try {
      const child = spawn(
        process.execPath,
        [...nodeArgsFor(siblingEntry(import.meta.url, './main')), '--state-dir', this.stateDir],
        { detached: true, stdio: ['ignore', log, log] },
      );
      child.once('error', (error) => (exited = messageOf(error)));
      child.once('exit', (code, signal) => (exited = `exited with ${signal ?? `code ${code}`}`));
      child.unref();
    } finally {
      closeSync(log);
    }
    const deadline = Date.now() + START_DEADLINE_MS;
    while (Date.now() < deadline) {
      const pid = await this.livePid();
      if (pid !== undefined) {
        this.logger?.info({ pid, stateDir: this.stateDir }, 'router started');
        return { pid, started: true };
      }
      // Ours exited: wait on only if another router, started at the same moment, owns the directory.
      if (exited !== undefined && !this.isOwnedByLiveRouter()) break;
      await delay(POLL_MS);
    }
    throw new FerryError(
      'FERRY_E_ROUTER_UNREACHABLE',
      `router for ${this.stateDir}: expected it to answer within ${START_DEADLINE_MS}ms, got ${exited ?? 'no answer'}` +
        `; last log lines:\n${lastLines(this.files.log, 10)}`,
      { where: this.files.socket, got: exited ?? 'no answer' },
    );
  }

  private async livePid(): Promise<number | undefined> {
    try {
      const response = await controlRequest(this.files.socket, 'GET', '/healthz', undefined, 2000);
      const pid = (response.body as { pid?: unknown } | undefined)?.pid;
      return response.status === 200 && typeof pid === 'number' ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  private isOwnedByLiveRouter(): boolean {
    const owner = readPidFile(this.files.pid);
    return owner !== undefined && isRouterProcess(owner);
  }

  private async call(method: string, path: string, body?: unknown): Promise<unknown> {
    let response: ControlResponse;
    try {
      response = await controlRequest(this.files.socket, method, path, body);
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
