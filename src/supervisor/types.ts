import type { RunAccount } from './account.js';

/** What the supervisor runs: one instance of one release of an app in one environment. */
export interface InstanceSpec {
  readonly id: string;
  readonly app: string;
  /** The environment's name (dev, staging, production...). */
  readonly env: string;
  readonly version: string;
  /** The release directory; the process starts there. */
  readonly cwd: string;
  readonly command: string;
  readonly args: readonly string[];
  /**
   * The instance's environment variables, merged over a clean base (PATH, HOME, LANG...: never the
   * daemon's whole environment, which may hold secrets). Ferry adds PORT, FERRY_APP, FERRY_ENV,
   * FERRY_VERSION, FERRY_RUN (see runDigest), FERRY_INSTANCE_ID and FERRY_OWNER last, so they cannot be overridden.
   */
  readonly envVars: Readonly<Record<string, string>>;
  readonly port: number;
  /** stdout and stderr go straight to this file (O_APPEND), never through the daemon. */
  readonly logFile: string;
  /** Run as this user and group (run.user); absent or null runs it as Ferry. */
  readonly account?: RunAccount | null;
}

/**
 * starting: being spawned; running: the process is alive; stopping: stop() sent SIGTERM and waits;
 * stopped: stopped on purpose; crashed: exited unexpectedly, a restart is scheduled; crash-loop:
 * restarted too often within the window, still retried at the maximum delay (it may recover).
 */
export type InstanceLifecycle = 'starting' | 'running' | 'stopping' | 'stopped' | 'crashed' | 'crash-loop';

export type SupervisorEvent =
  | {
      readonly type: 'started';
      readonly id: string;
      readonly pid: number;
      readonly pidStart: number;
      readonly restarts: number;
    }
  | {
      readonly type: 'exited';
      readonly id: string;
      readonly pid: number;
      /** null with signal null: an adopted process, whose exit status only its parent could see. */
      readonly code: number | null;
      readonly signal: string | null;
      /** true when stop() asked for it; an unexpected exit is restarted. */
      readonly expected: boolean;
    }
  | { readonly type: 'restarting'; readonly id: string; readonly inMs: number; readonly restarts: number }
  | { readonly type: 'crash-loop'; readonly id: string; readonly restarts: number }
  | { readonly type: 'stopped'; readonly id: string; readonly reason: string; readonly killed: boolean };

/** How crashed instances are restarted; every field in milliseconds except the count. */
export interface RestartPolicy {
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  /** More restarts than this within the window is a crash loop. */
  readonly crashLoopRestarts: number;
  readonly crashLoopWindowMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = Object.freeze({
  initialDelayMs: 500,
  maxDelayMs: 30_000,
  crashLoopRestarts: 5,
  crashLoopWindowMs: 60_000,
});

/** A process found by its markers, identified by pid and start time (pids are reused). */
export interface ProcessIdentity {
  readonly pid: number;
  /** Start time of the process in clock ticks since boot (field 22 of /proc/<pid>/stat). */
  readonly pidStart: number;
}
