/**
 * The HTTP API's request and response shapes. The CLI and the UI speak only these types.
 * docs/api.md documents every route.
 */
import type { ServedReport } from '../engine/served-report.js';
import type { DeploymentState, StrategyKind } from '../engine/types.js';
import type { DeploymentEvent, ReleaseRecord } from '../store/store.js';

export type Deployment = DeploymentState & {
  readonly progress: string;
  /**
   * The served-request report: requests served and failed from the deployment's start to its end,
   * per release and per step (docs/api.md). Null when none was kept (a deployment of an older
   * Ferry); absent from an older daemon.
   */
  readonly served?: ServedReport | null;
};
export type { DeploymentEvent, ReleaseRecord as Release, ServedReport, StrategyKind };

export interface InstanceView {
  readonly id: string;
  readonly version: string;
  readonly port: number;
  readonly pid: number | null;
  /** Process state: starting, running, crashed, crash-loop, retiring. */
  readonly state: string;
  /** starting, healthy or unhealthy. */
  readonly health: string;
  readonly lastFailure: string | null;
  // The process view (as `pm2 ls`); each absent from an older daemon.
  /** Since its process started; null when it does not run. */
  readonly uptimeMs?: number | null;
  /** Times the supervisor restarted it after a crash. */
  readonly restarts?: number;
  /** How its process last ended: exit code or signal (both null: an adopted process, status unknown) and when; null if never. */
  readonly lastExit?: {
    readonly code: number | null;
    readonly signal: string | null;
    readonly at: number;
  } | null;
  /** Percent of one CPU over the last sampling interval (2 s); null until sampled twice. */
  readonly cpuPercent?: number | null;
  /** Resident memory (RSS) of its process, in bytes; null when it does not run. */
  readonly memoryBytes?: number | null;
}

export interface AppStatus {
  readonly app: string;
  readonly env: string;
  readonly current: string | null;
  readonly listen: string;
  readonly instances: readonly InstanceView[];
  /** The running deployment, or the last one when none runs. */
  readonly deployment: Deployment | null;
  /**
   * A canary step running (or paused) right now: its counters so far, read live; null otherwise
   * (absent from an older daemon).
   */
  readonly canary?: CanaryLiveView | null;
}

/** The current canary step's analysis window so far, per release (the canary first). */
export interface CanaryLiveView {
  /** The step's index (0-based) and the canary's share now, in percent. */
  readonly step: number;
  readonly weight: number;
  /** When the window opened (ms since the epoch): the step's start, or a router restart since; null if unknown. */
  readonly since: number | null;
  readonly releases: ReadonlyArray<{
    readonly version: string;
    readonly role: 'canary' | 'stable';
    /** Its share of the requests, in percent. */
    readonly weight: number;
    /** Requests the router sent it since the window opened; null when the router could not be read. */
    readonly requests: number | null;
    /** Of them, 5xx responses and connection errors; null when the router could not be read. */
    readonly errors: number | null;
    /** Its healthy instances, of `instances` serving. */
    readonly healthy: number;
    readonly instances: number;
  }>;
  /** Why the router's counters could not be read; null when they were. */
  readonly error: string | null;
}

export interface StatusResponse {
  readonly daemon: {
    readonly pid: number;
    readonly version: string;
    readonly uptimeMs: number;
    readonly routerPid: number | null;
  };
  /** The router process tree: its keeper, workers, restarts, and what is wrong with it, if anything. */
  readonly router: RouterStatusView;
  readonly apps: readonly AppStatus[];
}

export interface RouterStatusView {
  /** running, restarting (the keeper does not answer and is being brought back), or down. */
  readonly state: string;
  readonly pid: number | null;
  readonly version: string | null;
  readonly uptimeMs: number | null;
  /** Times the daemon saw the keeper replaced since it started. */
  readonly restarts: number;
  readonly workers: ReadonlyArray<{
    readonly pid: number | null;
    readonly state: string;
    readonly uptimeMs: number | null;
    readonly restarts: number;
    readonly crashLoop: boolean;
  }>;
  /** The warm spare that takes a dead worker's place at once (null from an older daemon). */
  readonly spare?: { readonly pid: number | null; readonly state: string } | null;
  readonly error: string | null;
}

export interface DeployBody {
  readonly app: string;
  readonly env?: string;
  readonly version: string;
  readonly strategy?: StrategyKind;
  /** Deploy a release the ledger marks bad (refused otherwise: FERRY_E_RELEASE_BAD). */
  readonly force?: boolean;
}

export interface RollbackBody {
  readonly app: string;
  readonly env?: string;
  readonly to?: string;
}

/** The body of POST /v1/apps/:app/canary: the running canary step's share. */
export interface CanaryWeightBody {
  readonly env?: string;
  /** Percent of the requests for the canary: 30 or "30%", above 0 and at most 100. */
  readonly weight: number | string;
}

/** The body of POST /v1/apps/:app/{pause,resume,promote,abort}. */
export interface CommandBody {
  readonly env?: string;
  /** abort only: end the deployment at once in any phase, without waiting on what is failing. */
  readonly force?: boolean;
}

export interface DeploymentResponse {
  readonly deployment: Deployment;
}

export interface DeploymentDetailResponse {
  readonly deployment: Deployment;
  readonly events: readonly DeploymentEvent[];
}

export interface HistoryResponse {
  readonly deployments: readonly Deployment[];
  readonly releases: readonly ReleaseRecord[];
}

export interface LogsResponse {
  readonly lines: ReadonlyArray<{
    readonly instance: string;
    readonly version: string;
    readonly line: string;
  }>;
}

export interface ErrorResponse {
  readonly error: {
    readonly code: string;
    readonly message: string;
    readonly details?: Record<string, unknown>;
  };
}

/** Server-sent events on /v1/deployments/:id/events. */
export type DeploymentStreamMessage =
  | { readonly kind: 'event'; readonly event: DeploymentEvent }
  | { readonly kind: 'state'; readonly deployment: Deployment };

export const COMMANDS = ['pause', 'resume', 'promote', 'abort'] as const;

/** A deployment in one of these statuses will not change any more. */
export const FINAL_DEPLOYMENT_STATUSES: readonly string[] = ['succeeded', 'failed', 'rolled-back', 'aborted'];
