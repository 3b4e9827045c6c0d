/**
 * The deployment state machine's vocabulary. Everything here is plain data: the engine is a pure
 * function step(state, event, now) -> { state, effects }, and the runtime persists the state before
 * it executes the effects, so a deployment can resume after any crash.
 */

import type { Trigger } from '../releases/release.js';

export type StrategySpec =
  | { readonly kind: 'blue-green'; readonly healthDeadlineMs: number }
  | {
      readonly kind: 'canary';
      readonly healthDeadlineMs: number;
      readonly steps: readonly CanaryStep[];
      readonly analysis: AnalysisSpec;
    }
  | { readonly kind: 'all-at-once'; readonly healthDeadlineMs: number };

export type StrategyKind = StrategySpec['kind'];

/** One canary step: send `weight` percent of requests to the new release for `pauseMs`. */
export interface CanaryStep {
  readonly weight: number;
  readonly pauseMs: number;
}

/**
 * When a canary step passes: its pause elapsed AND its window saw at least minRequests requests with
 * the router-observed error rate at or under the threshold. Short of minRequests when the pause ends,
 * the step waits up to maxWaitMs more for traffic; then it is inconclusive. Absence of evidence is
 * not success.
 */
export interface AnalysisSpec {
  /** Highest tolerated share of failed requests (5xx or connection errors), 0..1. */
  readonly maxErrorRate: number;
  /** A step needs at least this many requests to the new release to pass. */
  readonly minRequests: number;
  /** How long past its pause a step may wait for minRequests before it is inconclusive. */
  readonly maxWaitMs: number;
  /** What an inconclusive step does: pause for an operator, or fail the deployment. */
  readonly inconclusive: 'pause' | 'fail';
}

/**
 * deploy and rollback move an app from one release to another; restart replaces the instances of
 * the release that serves (`ferry restart`, a changed run configuration), batch by batch.
 */
export const DEPLOYMENT_KINDS = ['deploy', 'rollback', 'restart'] as const;
export type DeploymentKind = (typeof DEPLOYMENT_KINDS)[number];

/**
 * What the release ledger records about a release: good (it passed every gate of a deployment), bad
 * (it failed one; deploy refuses it unless forced), rolled-back (a manual rollback left it).
 */
export type ReleaseVerdict = 'good' | 'bad' | 'rolled-back';

/** A deployment's lifecycle as users see it (ferry status, the API, the UI). */
export const DEPLOYMENT_STATUSES = [
  'pending',
  'running',
  'paused',
  'succeeded',
  'failed',
  'rolling-back',
  'rolled-back',
  'aborted',
] as const;
export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number];

export const FINAL_STATUSES: ReadonlySet<DeploymentStatus> = new Set([
  'succeeded',
  'failed',
  'rolled-back',
  'aborted',
]);

/**
 * Where the deployment is in its plan, and how each phase ends without anyone's help (docs/architecture.md
 * has the table):
 * - installing: the new release is fetched, verified and unpacked (bounded by the artifact's timeout
 *   and the hooks' timeout).
 * - stopping-old: all-at-once only; the old release is drained and stopped first (a failed retire is
 *   retried with backoff).
 * - starting: the new release's instances start; waiting for all of them to be healthy (health deadline).
 * - shifting: canary step `step` holds `weight` percent of traffic for its pause, under analysis (the
 *   pause, then at most the analysis' maxWaitMs).
 * - after-switch: all traffic is on the new release, `current` points at it, the old release still
 *   runs; the after_switch hook runs (its timeout). Only for apps with that hook.
 * - retiring: all traffic is on the new release; the old one drains and stops (retried with backoff).
 * - reverting: going back to `from`: its instances start (if needed), traffic returns, the new one
 *   stops (health deadline for `from`; a failed retire is retried with backoff). A restart that fails
 *   stops the instances its unfinished batch started; the ones it has not replaced keep serving.
 * - replacing: a restart (`replace` holds its progress): a batch of new instances of the serving
 *   release starts beside the old ones; once healthy (health deadline per batch), as many old ones
 *   drain and stop; then the next batch.
 * - done: the deployment reached a final status.
 */
export const PHASES = [
  'installing',
  'stopping-old',
  'starting',
  'shifting',
  'after-switch',
  'retiring',
  'reverting',
  'replacing',
  'done',
] as const;
export type Phase = (typeof PHASES)[number];

/** Why a deployment is paused: an operator asked, or a canary step had too few requests to judge. */
export type PauseReason =
  | { readonly kind: 'request' }
  | {
      readonly kind: 'inconclusive';
      /** What the step's window saw; null when the router's counters could not be read. */
      readonly traffic: TrafficWindow | null;
    };

/**
 * A failed effect of the current phase. The phase's effects (all idempotent) are issued again at
 * `at`, after 1 s, 2 s, 4 s... capped at 30 s; the runtime's ticks drive it, so it survives a restart.
 */
export interface RetryState {
  /** How many times the phase's effects failed so far. */
  readonly attempt: number;
  /** When they are issued again (ms since the epoch); null while the retry is under way. */
  readonly at: number | null;
  readonly failure: Failure;
}

/** What a failed deployment keeps as evidence. */
export interface Failure {
  readonly code: string;
  readonly message: string;
  readonly evidence?: Evidence;
}

export interface Evidence {
  /** The failing health check's result, e.g. `GET /healthz -> 503 "db down"` or `connect ECONNREFUSED`. */
  readonly health?: string;
  /** The last lines the failing instance wrote. */
  readonly logTail?: readonly string[];
  /** Router counters of the analysis window. */
  readonly traffic?: TrafficWindow;
  readonly instanceId?: string;
}

export interface DeploymentState {
  readonly id: string;
  readonly app: string;
  readonly env: string;
  readonly kind: DeploymentKind;
  /** The release serving before this deployment; null on an app's first deployment. */
  readonly from: string | null;
  readonly to: string;
  readonly strategy: StrategySpec;
  readonly instances: number;
  readonly status: DeploymentStatus;
  readonly phase: Phase;
  /** When the current phase (or canary step) began, in ms since the epoch. */
  readonly phaseSince: number;
  /** Canary step index while shifting. */
  readonly step: number;
  /** Percent of traffic on the new release. */
  readonly weight: number;
  /**
   * While shifting: an operator set the current canary step's weight (`weight` holds it) instead of
   * the step's own; null otherwise. The next step goes back to its own weight.
   */
  readonly weightOverride: WeightOverride | null;
  /** While paused in a canary step: how much of the step's pause was left. */
  readonly pausedRemainingMs: number | null;
  /** Why the deployment is reverting or failed. */
  readonly failure: Failure | null;
  /** How the revert was asked for: by the engine on a failure, or by a user's abort. */
  readonly revertReason: 'failure' | 'abort' | null;
  /** While reverting: traffic is back on the previous release and the new one is retiring. */
  readonly trafficRestored: boolean;
  /** The app has after_switch hooks: they run in the after-switch phase, before the old release retires. */
  readonly afterSwitchHook: boolean;
  /** A canary step whose pause ended short of minRequests, waiting (up to maxWaitMs) for traffic. */
  readonly waitingForTraffic: boolean;
  /** Why the deployment is paused; null unless its status is paused. */
  readonly pauseReason: PauseReason | null;
  /** A failed effect of this phase being retried with backoff; null when none failed. */
  readonly retry: RetryState | null;
  /** A restart's batches (kind restart, or a deploy of the serving release again); null otherwise. */
  readonly replace: ReplaceState | null;
  /** What started it (a user's token, a webhook delivery, a watcher); null when stored before Ferry kept it. */
  readonly trigger: Trigger | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/**
 * How far a restart got. The instances that ran when it began are named, so that new instances of
 * the same release are told apart from them after any crash; they retire in the order listed.
 */
export interface ReplaceState {
  /** The release's instances when the restart began: each batch retires some of them. */
  readonly old: readonly string[];
  /** Instances started (then old ones retired) per batch. */
  readonly batchSize: number;
  /** The batch under way, from 0. */
  readonly batch: number;
  /** The batch's new instances are healthy and its old ones drain. */
  readonly retiring: boolean;
}

/** Who set a canary step's weight at runtime (`ferry canary APP --weight P`), and when. */
export interface WeightOverride {
  readonly actor: string;
  /** ms since the epoch */
  readonly at: number;
}

/** The health of one release's instances as the runtime sees it at a moment. */
export interface ReleaseObservation {
  readonly version: string;
  readonly desired: number;
  /** Instances whose process runs. */
  readonly running: number;
  /** Instances that passed their health check thresholds. */
  readonly healthy: number;
  /** Instances that failed for good: unhealthy past the threshold after being healthy, or crash-looping. */
  readonly failed: number;
  /** Evidence of the worst instance, when one is failing. */
  readonly evidence?: Evidence;
}

/** Router counters for the new release since the engine last opened a window. */
export interface TrafficWindow {
  readonly requests: number;
  /** 5xx responses plus connection errors. */
  readonly errors: number;
}

export type DeploymentCommand = 'pause' | 'resume' | 'promote' | 'abort';

/** The hooks that run inside a deployment (success and failure hooks are notifications, after it). */
export type DeploymentHook = 'after_switch';

export type EngineEvent =
  | { readonly type: 'begin' }
  /** The daemon restarted: re-issue whatever the current phase needs; effects are idempotent. */
  | { readonly type: 'recover' }
  /**
   * Time passed (the runtime ticks in every non-final phase). In a phase that is observed, a tick
   * instead of an observation means the runtime could not observe; `unobserved` says why.
   */
  | { readonly type: 'tick'; readonly unobserved?: string }
  /** An effect the runtime awaits (set-traffic, open-window, activate...) failed. */
  | { readonly type: 'effect-failed'; readonly effect: EngineEffect['type']; readonly failure: Failure }
  | { readonly type: 'hook-passed'; readonly hook: DeploymentHook }
  | { readonly type: 'hook-failed'; readonly hook: DeploymentHook; readonly failure: Failure }
  | { readonly type: 'installed' }
  | { readonly type: 'install-failed'; readonly failure: Failure }
  | { readonly type: 'retired'; readonly version: string }
  | { readonly type: 'retire-failed'; readonly version: string; readonly failure: Failure }
  | { readonly type: 'start-failed'; readonly version: string; readonly failure: Failure }
  | {
      readonly type: 'observed';
      readonly target: ReleaseObservation;
      readonly previous: ReleaseObservation | null;
      readonly traffic: TrafficWindow;
    }
  /**
   * An operator sets the share of the running canary step (`ferry canary APP --weight P`): the step
   * starts over at that weight, its pause and its analysis window with it.
   */
  | {
      readonly type: 'set-weight';
      readonly weight: number;
      readonly actor?: string;
      /** The canary step the operator saw: once another step runs, the change does not apply. */
      readonly step?: number;
    }
  | {
      readonly type: 'command';
      readonly command: DeploymentCommand;
      /** Who asked (recorded in the events). */
      readonly actor?: string;
      /** abort only: end the deployment at once in any phase, without waiting on any effect. */
      readonly force?: boolean;
    };

export type EngineEffect =
  | { readonly type: 'install'; readonly version: string }
  /**
   * Make `count` instances of the release run (start the missing ones; keep running ones); the
   * instances named in `exclude` (a restart's old ones) do not count.
   */
  | {
      readonly type: 'ensure-instances';
      readonly version: string;
      readonly count: number;
      readonly exclude?: readonly string[];
    }
  /** Take these instances out of the router, wait for their requests to finish, stop them (a restart's old ones). */
  | { readonly type: 'retire-instances'; readonly version: string; readonly ids: readonly string[] }
  /**
   * Keep at most `count` instances of the release not named in `exclude`: the others (unhealthy
   * ones first, then the newest) drain and stop. A restart that ends early keeps its finished batches.
   */
  | {
      readonly type: 'trim-instances';
      readonly version: string;
      readonly exclude: readonly string[];
      readonly count: number;
    }
  /** Percent of traffic per release; releases not named get 0. */
  | { readonly type: 'set-traffic'; readonly weights: Readonly<Record<string, number>> }
  /** Take the release out of the router, wait for its requests to finish, stop its instances. */
  | { readonly type: 'retire'; readonly version: string }
  /** Take the release out of the router and stop its instances without waiting for the drain. */
  | { readonly type: 'stop-instances'; readonly version: string }
  /** Point the app's `current` symlink at the release. */
  | { readonly type: 'activate'; readonly version: string }
  /** Run a hook of the release in the background; it reports hook-passed or hook-failed. */
  | { readonly type: 'run-hook'; readonly hook: DeploymentHook; readonly version: string }
  /** Start counting the new release's requests and errors afresh (a canary analysis window). */
  | { readonly type: 'open-window' }
  | {
      readonly type: 'mark-release';
      readonly version: string;
      readonly verdict: ReleaseVerdict;
      readonly reason: string;
    }
  | { readonly type: 'record'; readonly message: string; readonly data?: Readonly<Record<string, unknown>> };

export interface StepResult {
  readonly state: DeploymentState;
  readonly effects: readonly EngineEffect[];
}
