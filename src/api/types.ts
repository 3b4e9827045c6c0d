/**
 * The HTTP API's request and response shapes. The CLI and the UI speak only these types.
 * docs/api.md documents every route.
 */
import type { DeploymentState, StrategyKind } from '../engine/types.js';
import type { DeploymentEvent, ReleaseRecord } from '../store/store.js';

export type Deployment = DeploymentState & { readonly progress: string };
export type { DeploymentEvent, ReleaseRecord as Release, StrategyKind };

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
  /**
   * False for an app that left ferry.yaml but keeps running (`ferry apply` without --prune): it is
   * still served and supervised until `ferry apply --prune` stops it. Absent from an older daemon.
   */
  readonly inConfig?: boolean;
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

/** The body of POST /v1/apps/:app/restart. */
export interface RestartBody {
  readonly env?: string;
}

/**
 * The body of POST /v1/config/plan and /v1/config/apply. Without `config` the daemon reads the file
 * it was started with again (as SIGHUP does).
 */
export interface ConfigApplyBody {
  /** The text of a ferry.yaml (the CLI sends the file it was given). */
  readonly config?: string;
  /** The file's absolute path: relative paths in it are resolved against its directory. */
  readonly path?: string;
  /** Stop the apps that left the file (otherwise they keep running, shown as not in config). */
  readonly prune?: boolean;
  /** apply only: the plan's id as POST /v1/config/plan returned it; refused if the plan changed since. */
  readonly expect?: string;
}

/** What applying a configuration does (or did) to one app in one environment. */
export interface ConfigChangeView {
  readonly app: string;
  readonly env: string;
  /** add, remove (--prune), keep (left the file, keeps running), replace (instances), update (settings). */
  readonly action: 'add' | 'remove' | 'keep' | 'replace' | 'update';
  /** What changed, as ferry.yaml paths within the app; never values. */
  readonly fields: readonly string[];
  /** What applying does, in words ("replaces 2 instance(s) of 1.1.0, 1 at a time, health-gated"). */
  readonly effect: string;
}

/** The plan of `ferry apply`: like `terraform plan`, printed before anything changes. */
export interface ConfigPlanView {
  /** A digest of the plan: apply with `expect` set to it acts only if nothing changed meanwhile. */
  readonly id: string;
  /** The file compared with what runs (null: the configuration was sent without a path). */
  readonly path: string | null;
  readonly prune: boolean;
  /** Unchanged apps are left out: no changes, nothing to do. */
  readonly changes: readonly ConfigChangeView[];
  /** Refusals: settings that need a daemon restart, ports still held, deployments running. */
  readonly refused: ReadonlyArray<{ readonly code: string; readonly path: string; readonly message: string }>;
}

export interface ConfigApplyResponse {
  readonly plan: ConfigPlanView;
  /** The deployments applying started (initial releases, restarts), to follow with --wait. */
  readonly deployments: readonly Deployment[];
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
