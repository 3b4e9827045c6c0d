import { FerryError } from '../errors/ferry-error.js';
import { sleep, systemClock, type Clock } from '../lib/clock.js';
import { findMarkedProcesses, type MarkedProcess } from './markers.js';
import { isProcessAlive } from './proc.js';
import { planRestart } from './restart-policy.js';
import { spawnInstance } from './spawn.js';
import { UsageSampler, type ProcessUsage } from './usage-sampler.js';
import { hasLiveParts, terminate } from './terminate.js';
import {
  DEFAULT_RESTART_POLICY,
  type InstanceLifecycle,
  type InstanceSpec,
  type RestartPolicy,
  type SupervisorEvent,
} from './types.js';
import {
  clearTimers,
  newWatchedInstance,
  newWatchedProcess,
  type WatchedInstance,
  type WatchedProcess,
} from './watched-instance.js';

/** How long stop() waits for the exit to be reported once the process is gone. */
const EXIT_REPORT_MS = 5_000;

export interface SupervisorOptions {
  /** The Ferry home this daemon owns; instances carry its owner marker (FERRY_OWNER). */
  readonly ferryHome: string;
  readonly restart?: Partial<RestartPolicy>;
  readonly onEvent?: (event: SupervisorEvent) => void;
  /** How often an adopted process (not our child, so no exit event) is checked; default 500ms. */
  readonly adoptPollMs?: number;
  /**
   * Drives every delay and window: restart backoff, the crash-loop window, adoption polling, the
   * stop's grace period. The system clock unless a test passes a fake one.
   */
  readonly clock?: Clock;
}

/** watching: supervises instances; detached: the daemon is shutting down and let go of them. */
export type SupervisorLifecycle = 'watching' | 'detached';

/**
 * Runs app instances as processes that outlive the daemon, restarts them when they crash (with
 * backoff, and a crash-loop state), stops them gracefully, and re-adopts them after a daemon restart.
 */
export class Supervisor {
  private lifecycle: SupervisorLifecycle = 'watching';
  private readonly instances = new Map<string, WatchedInstance>();
  private readonly policy: RestartPolicy;
  private readonly adoptPollMs: number;
  private readonly clock: Clock;
  private readonly sampler: UsageSampler;

  constructor(private readonly opts: SupervisorOptions) {
    this.policy = { ...DEFAULT_RESTART_POLICY, ...opts.restart };
    this.adoptPollMs = opts.adoptPollMs ?? 500;
    this.clock = opts.clock ?? systemClock;
    this.sampler = new UsageSampler(this.clock, () =>
      [...this.instances.values()].flatMap((i) => (i.process ? [{ id: i.spec.id, pid: i.process.pid }] : [])),
    );
  }

  /** Samples every instance's CPU and memory from /proc every `intervalMs` of the clock (see usage). */
  startSampling(intervalMs: number): void {
    this.assertWatching('sample processes');
    this.sampler.start(intervalMs);
  }

  /**
   * The instance's process as last sampled: when it started, its CPU share over the last interval
   * and its resident memory; null when it is not running or was not sampled since it started.
   */
  usage(id: string): ProcessUsage | null {
    const pid = this.instances.get(id)?.process?.pid ?? null;
    if (pid === null) return null;
    // A process not sampled yet (it just started) is sampled now: its CPU share follows later.
    return this.sampler.usage(id, pid) ?? this.sampler.sampleOne(id, pid);
  }

  /** Spawns an instance; fails with FERRY_E_PROCESS_START when it cannot (no command, no release dir). */
  async start(spec: InstanceSpec): Promise<{ pid: number; pidStart: number }> {
    this.assertWatching(`start instance ${spec.id}`);
    const existing = this.instances.get(spec.id);
    if (existing && existing.state !== 'stopped')
      throw illegalState(`instance ${spec.id} is ${existing.state}; it cannot be started again`);
    const instance = newWatchedInstance(spec, 'starting');
    this.instances.set(spec.id, instance);
    try {
      const { pid, pidStart } = await this.launch(instance);
      return { pid, pidStart };
    } catch (error) {
      this.instances.delete(spec.id);
      throw error;
    }
  }

  /**
   * Watches a process that survived a daemon restart. False when it is gone, or when the pid now
   * belongs to another process (a different start time). `restarts`: how many times it was
   * restarted before (the count goes on from there).
   */
  adopt(spec: InstanceSpec, pid: number, pidStart: number, restarts = 0): boolean {
    this.assertWatching(`adopt instance ${spec.id}`);
    const existing = this.instances.get(spec.id);
    if (existing && existing.state !== 'stopped') {
      if (existing.process?.pid === pid && existing.process.pidStart === pidStart) return true;
      throw illegalState(
        `instance ${spec.id} is already supervised (${existing.state}, pid ${existing.process?.pid ?? 'none'}); it cannot adopt pid ${pid}`,
      );
    }
    if (!isProcessAlive(pid, pidStart)) return false;
    const instance = newWatchedInstance(spec, 'running');
    instance.restarts = restarts;
    this.instances.set(spec.id, instance);
    const proc = newWatchedProcess(pid, pidStart, null, this.clock.now());
    const poll = this.clock.setInterval(() => this.checkAdopted(instance, proc), this.adoptPollMs);
    proc.unwatch = () => this.clock.clearInterval(poll);
    instance.process = proc;
    return true;
  }

  /**
   * SIGTERM to the instance's process group, up to `graceMs` to exit, then SIGKILL. Cancels a
   * pending restart. The first reason is the one recorded; a second call joins the first.
   */
  async stop(id: string, opts: { graceMs: number; reason: string }): Promise<{ killed: boolean }> {
    this.assertWatching(`stop instance ${id}`);
    const instance = this.instances.get(id);
    if (!instance) throw illegalState(`no instance ${id} is supervised; it cannot be stopped`);
    if (instance.stopping) return instance.stopping;
    if (instance.state === 'stopped') return { killed: false };
    instance.stopping = this.runStop(instance, opts);
    return instance.stopping;
  }

  state(id: string): InstanceLifecycle | undefined {
    return this.instances.get(id)?.state;
  }

  list(): Array<{
    id: string;
    spec: InstanceSpec;
    state: InstanceLifecycle;
    pid: number | null;
    pidStart: number | null;
    restarts: number;
  }> {
    return [...this.instances.values()].map((i) => ({
      id: i.spec.id,
      spec: i.spec,
      state: i.state,
      pid: i.process?.pid ?? null,
      pidStart: i.process?.pidStart ?? null,
      restarts: i.restarts,
    }));
  }

  /** Processes that carry this home's markers, ours or not (orphans from before a crash included). */
  findMarkedProcesses(): Promise<MarkedProcess[]> {
    return Promise.resolve(findMarkedProcesses(this.opts.ferryHome));
  }

  /** Daemon shutdown: stop watching and cancel timers; never kill anything (instances outlive us). */
  detach(): void {
    this.lifecycle = 'detached';
    this.sampler.stop();
    for (const instance of this.instances.values()) {
      clearTimers(instance, this.clock);
      instance.process?.unwatch();
    }
    this.instances.clear();
  }

  /** Spawns and watches; while it runs, `instance.launching` lets stop() wait for its process. */
  private async launch(instance: WatchedInstance): Promise<WatchedProcess> {
    const launching = this.spawnAndWatch(instance);
    instance.launching = launching;
    try {
      return await launching;
    } finally {
      if (instance.launching === launching) instance.launching = null;
    }
  }

  private async spawnAndWatch(instance: WatchedInstance): Promise<WatchedProcess> {
    // No exit can be missed: spawnInstance resolves within the tick of the spawn, and Node reports
    // a child's exit only in a later turn of the event loop.
    const { child, pid, pidStart } = await spawnInstance(instance.spec, this.opts.ferryHome);
    const proc = newWatchedProcess(pid, pidStart, child, this.clock.now());
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      this.onExit(instance, proc, code, signal);
    child.once('exit', onExit);
    proc.unwatch = () => child.off('exit', onExit);
    instance.process = proc;
    if (instance.state !== 'stopping') instance.state = instance.crashLoop ? 'crash-loop' : 'running';
    if (instance.crashLoop) {
      instance.stableTimer = this.clock.setTimeout(
        () => this.leaveCrashLoop(instance),
        this.policy.crashLoopWindowMs,
      );
    }
    this.emit({ type: 'started', id: instance.spec.id, pid, pidStart, restarts: instance.restarts });
    return proc;
  }

  private checkAdopted(instance: WatchedInstance, proc: WatchedProcess): void {
    if (!isProcessAlive(proc.pid, proc.pidStart)) this.onExit(instance, proc, null, null);
  }

  private onExit(
    instance: WatchedInstance,
    proc: WatchedProcess,
    code: number | null,
    signal: string | null,
  ): void {
    if (instance.process !== proc || this.lifecycle === 'detached') return;
    proc.unwatch();
    instance.process = null;
    if (instance.stableTimer) this.clock.clearTimeout(instance.stableTimer);
    instance.stableTimer = null;
    const expected = instance.state === 'stopping';
    this.emit({ type: 'exited', id: instance.spec.id, pid: proc.pid, code, signal, expected });
    proc.markExited();
    if (expected) return;
    // Whatever the crashed process left in its group (workers, helpers) would hold its port.
    const leftovers = { pid: proc.pid, pidStart: proc.pidStart, leadsGroup: true };
    if (hasLiveParts(leftovers)) void terminate(leftovers, 0, this.clock).catch(() => undefined);
    this.scheduleRestart(instance, this.clock.now() - proc.startedAt);
  }

  private scheduleRestart(instance: WatchedInstance, ranMs: number): void {
    const plan = planRestart(instance.recentRestarts, { at: this.clock.now(), ranMs }, this.policy);
    instance.recentRestarts = plan.recent;
    const entersCrashLoop = plan.crashLoop && !instance.crashLoop;
    instance.crashLoop = plan.crashLoop;
    instance.state = plan.crashLoop ? 'crash-loop' : 'crashed';
    if (entersCrashLoop) this.emit({ type: 'crash-loop', id: instance.spec.id, restarts: instance.restarts });
    this.emit({
      type: 'restarting',
      id: instance.spec.id,
      inMs: plan.delayMs,
      restarts: instance.restarts + 1,
    });
    instance.restartTimer = this.clock.setTimeout(() => {
      instance.restartTimer = null;
      instance.restarts += 1;
      this.launch(instance).catch(() => {
        // The release dir or command is gone: count it as another crash, so the backoff applies.
        if (instance.state !== 'stopping' && this.lifecycle === 'watching') this.scheduleRestart(instance, 0);
      });
    }, plan.delayMs);
  }

  private leaveCrashLoop(instance: WatchedInstance): void {
    instance.stableTimer = null;
    instance.crashLoop = false;
    instance.recentRestarts = [];
    if (instance.state === 'crash-loop') instance.state = 'running';
  }

  private async runStop(
    instance: WatchedInstance,
    opts: { graceMs: number; reason: string },
  ): Promise<{ killed: boolean }> {
    clearTimers(instance, this.clock);
    instance.state = 'stopping';
    await instance.launching?.catch(() => undefined);
    const proc = instance.process;
    let killed = false;
    if (proc) {
      ({ killed } = await terminate(
        { pid: proc.pid, pidStart: proc.pidStart, leadsGroup: true },
        opts.graceMs,
        this.clock,
      ));
      if (!proc.child) this.checkAdopted(instance, proc);
      // Our child's exit event follows the kernel's exit closely; bounded for a process stuck in D state.
      const report = new AbortController();
      await Promise.race([
        proc.exited,
        sleep(this.clock, EXIT_REPORT_MS, report.signal).catch(() => undefined),
      ]);
      report.abort();
      proc.unwatch();
      instance.process = null;
    }
    instance.state = 'stopped';
    instance.stopping = null;
    this.emit({ type: 'stopped', id: instance.spec.id, reason: opts.reason, killed });
    return { killed };
  }

  private emit(event: SupervisorEvent): void {
    try {
      this.opts.onEvent?.(event);
    } catch (error) {
      // A listener's bug must not leave an instance half handled (no restart scheduled): surface it
      // as an uncaught error after the bookkeeping is done, as an EventEmitter listener's would be.
      queueMicrotask(() => {
        throw error;
      });
    }
  }

  private assertWatching(action: string): void {
    if (this.lifecycle !== 'watching')
      throw illegalState(`the supervisor is ${this.lifecycle}; it cannot ${action}`);
  }
}

function illegalState(message: string): FerryError {
  return new FerryError('FERRY_E_ILLEGAL_STATE', message);
}
