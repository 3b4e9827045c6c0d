import type { InstanceExit } from '../store/store.js';

/** One of the app's hooks for one release; see runHook. */
export interface AppHookRun {
  readonly hook: string;
  readonly lines: readonly string[];
  readonly version: string;
  /** More FERRY_* variables (the deployment's id, kind, status...). */
  readonly vars?: Readonly<Record<string, string>>;
  readonly stdin?: string;
}

/** One instance as `ferry status` shows it. */
export interface InstanceDescription {
  readonly id: string;
  readonly version: string;
  readonly port: number;
  readonly pid: number | null;
  readonly state: string;
  readonly health: string;
  readonly lastFailure: string | null;
  /** Since its process started (from /proc); null when it does not run. */
  readonly uptimeMs: number | null;
  readonly restarts: number;
  readonly lastExit: InstanceExit | null;
  /** Percent of one CPU over the last sampling interval; null until two samples. */
  readonly cpuPercent: number | null;
  /** Resident memory (RSS) of its process, in bytes. */
  readonly memoryBytes: number | null;
  /** CPU time of its process since it started, in seconds, at the last sample. */
  readonly cpuSeconds: number | null;
}
