import type { ChildProcess } from 'node:child_process';
import type { Clock, TimerHandle } from '../lib/clock.js';
import type { InstanceLifecycle, InstanceSpec } from './types.js';

/** One incarnation of an instance: the process the supervisor watches right now. */
export interface WatchedProcess {
  readonly pid: number;
  readonly pidStart: number;
  /** Our child (exit event) or null for an adopted process (polled). */
  readonly child: ChildProcess | null;
  readonly startedAt: number;
  /** Resolves once the supervisor has handled this process's exit. */
  readonly exited: Promise<void>;
  readonly markExited: () => void;
  /** Stops watching: removes the exit listener or the poll timer. */
  unwatch: () => void;
}

/** The supervisor's bookkeeping for one instance, across its restarts. */
export interface WatchedInstance {
  readonly spec: InstanceSpec;
  state: InstanceLifecycle;
  process: WatchedProcess | null;
  restarts: number;
  /** Times of the restarts inside the crash-loop window (see planRestart). */
  recentRestarts: readonly number[];
  crashLoop: boolean;
  /** Set while a spawn is under way, so that stop() can wait for its process. */
  launching: Promise<unknown> | null;
  restartTimer: TimerHandle | null;
  /** Leaves the crash loop once a process has run for a whole window. */
  stableTimer: TimerHandle | null;
  stopping: Promise<{ killed: boolean }> | null;
}

export function newWatchedInstance(spec: InstanceSpec, state: InstanceLifecycle): WatchedInstance {
  return {
    spec,
    state,
    process: null,
    restarts: 0,
    recentRestarts: [],
    crashLoop: false,
    launching: null,
    restartTimer: null,
    stableTimer: null,
    stopping: null,
  };
}

export function newWatchedProcess(
  pid: number,
  pidStart: number,
  child: ChildProcess | null,
  startedAt: number,
): WatchedProcess {
  let markExited: () => void = () => undefined;
  const exited = new Promise<void>((resolve) => (markExited = resolve));
  return { pid, pidStart, child, startedAt, exited, markExited, unwatch: () => undefined };
}

export function clearTimers(instance: WatchedInstance, clock: Clock): void {
  if (instance.restartTimer) clock.clearTimeout(instance.restartTimer);
  if (instance.stableTimer) clock.clearTimeout(instance.stableTimer);
  instance.restartTimer = null;
  instance.stableTimer = null;
}
