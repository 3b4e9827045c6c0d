import type { Trigger } from '../releases/release.js';
import type { RolloutDecision } from './events.js';

/**
 * The fleet rollout engine's state and options: one app in one environment over its targets (hosts).
 * Everything here is plain JSON data: the engine is a pure function step(state, event, now) ->
 * { state, effects }, and the runtime persists the state before it executes the effects, so a
 * rollout resumes after any crash. Times are ms since the epoch; absent values are null, never
 * undefined (a JSON round trip keeps the state equal).
 */

/** A share of the targets: a percent of them (rounded as nixmade/orchestrator does) or a count. */
export type Amount = { readonly percent: number } | { readonly count: number };

/** One external controller (an HTTP webhook, called by the runtime): how long an answer may take. */
export interface ControllerOptions {
  readonly timeoutMs: number;
}

export interface ApprovalOptions extends ControllerOptions {
  /** Asked before the first batch, or after the canary (before the rest). */
  readonly at: 'start' | 'after-canary';
}

/** The fleet canary: a first batch of its own size, then a pause and/or an analysis verdict. */
export interface CanaryOptions {
  readonly size: Amount;
  /** How long to wait once every canary target succeeded, before the analysis or the rest. */
  readonly pauseMs: number;
  /** Ask the fleet-monitor controller for a verdict on the canary (after the pause). */
  readonly analysis: boolean;
}

export interface RolloutControllers {
  /** Picks the targets of each batch (in replace mode: names the new targets it provides). */
  readonly selection: ControllerOptions | null;
  readonly approval: ApprovalOptions | null;
  /** Judges each target once it has soaked; a fail (or an error, or no answer) fails that target. */
  readonly targetMonitor: ControllerOptions | null;
  /** Judges the fleet after each batch (and the canary's analysis); a fail rolls back. */
  readonly fleetMonitor: ControllerOptions | null;
  /** Replace mode: picks the old targets to remove once a batch of new ones succeeded. */
  readonly removal: ControllerOptions | null;
}

/** Compiled rollout options in plain units (docs/rollouts.md lists them with their defaults). */
export interface RolloutOptions {
  /** Targets per batch. */
  readonly batch: Amount;
  /**
   * Targets that may be unavailable (not healthy, or in flight) at once; null: no budget beyond the
   * batch (targets unhealthy on their own then hold nothing up).
   */
  readonly maxUnavailable: Amount | null;
  /** Share of the targets that must succeed for the release to become last known good. */
  readonly successPercent: number;
  /** A target succeeds once it has reported healthy on its release for this long. */
  readonly soakMs: number;
  /** A target not healthy on its release this long after it was assigned has failed. */
  readonly deadlineMs: number;
  /**
   * A target that has not reported for this long is silent: it does not count as succeeded while
   * the release is judged (its last report may be all that is left of it).
   */
  readonly silentAfterMs: number;
  /** A target that has not reported for this long leaves the rollout. */
  readonly unseenAfterMs: number;
  readonly canary: CanaryOptions | null;
  /**
   * in-place: targets switch release. replace: blue-green by replacement, each batch adds new
   * targets on the release (named by the selection controller) and then removes as many old ones.
   */
  readonly mode: 'in-place' | 'replace';
  readonly controllers: RolloutControllers;
}

/**
 * A target's standing on the release it is assigned:
 * - unassigned: no release for it yet (no last known good when it joined);
 * - converging: assigned, not yet reporting healthy on it (its deadline runs);
 * - soaking: reporting healthy on it since healthySince, for less than the soak time;
 * - verifying: soaked; the target-monitor controller is asked;
 * - settled: succeeded on it;
 * - failed: not healthy by its deadline, failed on the host, or failed by the target monitor;
 * - removed: removed by the removal controller (replace mode); kept until unseen so that its
 *   reports do not bring it back.
 */
export const TARGET_STATUSES = [
  'unassigned',
  'converging',
  'soaking',
  'verifying',
  'settled',
  'failed',
  'removed',
] as const;
export type TargetStatus = (typeof TARGET_STATUSES)[number];

export interface RolloutTarget {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** The release it last reported running; null when it runs none. */
  readonly reported: string | null;
  /** Its last report said its instances of `reported` are healthy. */
  readonly healthy: boolean;
  /** The last report's message (a failing health check's result, an error). */
  readonly message: string | null;
  /** When it entered the state (its first report, or named by the selection controller). */
  readonly addedAt: number;
  /** The release Ferry told it to run. */
  readonly assigned: string | null;
  readonly assignedAt: number | null;
  /** Since when every report has shown it healthy on `assigned`; null when the last one did not. */
  readonly healthySince: number | null;
  readonly status: TargetStatus;
  /** Why it failed; null unless failed. */
  readonly failure: string | null;
  /** The id of the last batch it was part of (BatchState.id); null before any. */
  readonly batch: number | null;
}

/**
 * The latest rollout's lifecycle: idle (never deployed), running (forward: batches, gates),
 * paused (by an operator: no new target gets the release), rolling-back (every target returns to
 * last known good, batch by batch), then one of the final ones.
 */
export const ROLLOUT_STATUSES = [
  'idle',
  'running',
  'paused',
  'rolling-back',
  'succeeded',
  'rolled-back',
  'aborted',
  'failed',
] as const;
export type RolloutStatus = (typeof ROLLOUT_STATUSES)[number];

export const ACTIVE_STATUSES: ReadonlySet<RolloutStatus> = new Set(['running', 'paused', 'rolling-back']);

/**
 * Why a rollout returns to last known good: the release failed (it is last known bad), an operator
 * aborted it, the approval was denied, or a selection or removal controller failed (the release is
 * not judged in these three).
 */
export type ReturnReason = 'failure' | 'abort' | 'denied' | 'controller';

export interface Ending {
  readonly reason: ReturnReason;
  readonly message: string;
}

export interface BatchState {
  /** Unique within the state: the targets of this batch carry it. */
  readonly id: number;
  /** 1-based, counted over the whole rollout (rollback batches continue the count). */
  readonly index: number;
  readonly kind: 'canary' | 'batch' | 'rollback';
  /** The release its targets get. */
  readonly version: string;
  readonly targets: readonly string[];
  /** The batch's size as computed when it began. */
  readonly size: number;
  readonly startedAt: number;
  /** Some of its targets wait for the max-unavailable budget. */
  readonly held: boolean;
  /** Every target of it succeeded or failed; the gates after it (removal, canary, fleet monitor) are open. */
  readonly done: boolean;
  /** Replace mode: its targets are new ones; once they succeed, as many old ones are removed. */
  readonly replace: boolean;
}

/** What the rollout waits for before its next batch. */
export type Gate =
  | { readonly kind: 'approval'; readonly at: 'start' | 'after-canary'; readonly call: string }
  | { readonly kind: 'canary-pause'; readonly until: number }
  | { readonly kind: 'analysis'; readonly call: string }
  | { readonly kind: 'fleet-monitor'; readonly batch: number; readonly call: string }
  | { readonly kind: 'selection'; readonly call: string }
  | { readonly kind: 'removal'; readonly call: string };

export const CONTROLLER_KINDS = [
  'selection',
  'approval',
  'target-monitor',
  'fleet-monitor',
  'removal',
] as const;
export type ControllerKind = (typeof CONTROLLER_KINDS)[number];

/** A question to a controller the engine waits for, with its deadline. */
export interface PendingCall {
  readonly id: string;
  readonly controller: ControllerKind;
  readonly askedAt: number;
  readonly deadline: number;
  /** target-monitor: the target judged. */
  readonly target: string | null;
  /** selection, removal: how many targets to name at most. */
  readonly count: number | null;
}

export interface QueuedDeploy {
  readonly version: string;
  readonly at: number;
  readonly actor: string;
}

/** One entry of the rollout's event log (the last ones stay in the state for `ferry status`). */
export interface LogEntry {
  readonly at: number;
  readonly decision: RolloutDecision;
}

export interface RolloutState {
  readonly app: string;
  readonly env: string;
  readonly options: RolloutOptions;
  /** Sorted by name (code unit order): the default batch order. */
  readonly targets: readonly RolloutTarget[];
  /**
   * When each target last reported (the report's own time; null before its first report), by its
   * index in `targets`. A column of its own: a report that changes nothing but the time (most of
   * them, on a large fleet) then costs no new target record.
   */
  readonly lastSeen: readonly (number | null)[];
  /** The release last asked for (rolling, or queued behind it; a dropped queued one no more). */
  readonly targetVersion: string | null;
  /** The release the latest rollout moves to. */
  readonly rolling: string | null;
  readonly lkg: string | null;
  readonly lkb: string | null;
  /** A release asked for while a rollout runs: it starts when that one ends. */
  readonly queued: QueuedDeploy | null;
  readonly status: RolloutStatus;
  /** forward: targets get `rolling`; back: they return to `lkg`. */
  readonly direction: 'forward' | 'back';
  /** Why the rollout returns (or returned) to last known good; null otherwise. */
  readonly ending: Ending | null;
  /** No canary configured, or the canary's gates passed. */
  readonly canaryPassed: boolean;
  readonly batch: BatchState | null;
  /** Batches begun in the latest rollout (the index of the current or last one). */
  readonly batches: number;
  /** The id of the last batch begun (ids go on across rollouts). */
  readonly lastBatchId: number;
  readonly gate: Gate | null;
  readonly calls: readonly PendingCall[];
  /** The next controller call's number (call ids are unique within the state). */
  readonly nextCall: number;
  readonly startedAt: number | null;
  /** What started the latest rollout (a user, a webhook delivery, a watcher); null before the first, or stored before Ferry kept it. */
  readonly trigger: Trigger | null;
  readonly updatedAt: number;
  readonly log: readonly LogEntry[];
}
