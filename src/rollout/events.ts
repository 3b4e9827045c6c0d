import type { BatchState, ControllerKind, ReturnReason, RolloutState, RolloutStatus } from './types.js';

/**
 * What goes in and out of the rollout engine: the events the runtime sends (reports, deploys,
 * ticks, controllers' answers, operators' commands), the effects it executes (assignments,
 * questions to controllers, release verdicts, decisions for the event log), and the questions and
 * answers of the external controllers. Plain JSON, like the state.
 */

/** What a host says about itself (the agent's report, or an external client's). */
export interface TargetReport {
  readonly name: string;
  /** When the host observed this (ms since the epoch). */
  readonly at: number;
  /** The release it runs; null when none. */
  readonly version: string | null;
  readonly healthy: boolean;
  readonly message?: string;
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * The host's own deployment of this release failed (and it went back to its previous one): the
   * target fails at once when this is the release it is assigned.
   */
  readonly failedVersion?: string;
}

/** A controller's answer, by controller. */
export type ControllerAnswer =
  | { readonly controller: 'selection'; readonly targets: readonly string[] }
  | { readonly controller: 'removal'; readonly targets: readonly string[] }
  | {
      readonly controller: 'approval';
      readonly approved: boolean;
      readonly by?: string;
      readonly reason?: string;
    }
  | {
      readonly controller: 'target-monitor' | 'fleet-monitor';
      readonly verdict: 'pass' | 'fail';
      readonly reason?: string;
    };

export type RolloutCommand = 'pause' | 'resume' | 'abort';

export type RolloutEvent =
  /** Hosts reported their state (a batch of reports, each with its own time). */
  | { readonly type: 'reported'; readonly reports: readonly TargetReport[] }
  /** Roll out a release; `force` supersedes a running rollout instead of queueing behind it. */
  | { readonly type: 'deploy'; readonly version: string; readonly force?: boolean; readonly actor?: string }
  /** Time passed: deadlines (targets, controller calls), the canary's pause, unseen targets. */
  | { readonly type: 'tick' }
  | { readonly type: 'controller-answered'; readonly id: string; readonly answer: ControllerAnswer }
  /** The runtime's call to a controller failed (connection, HTTP status, unreadable answer). */
  | { readonly type: 'controller-failed'; readonly id: string; readonly error: string }
  | { readonly type: 'command'; readonly command: RolloutCommand; readonly actor?: string }
  /** The runtime restarted: assignments not yet reached and pending questions go out again. */
  | { readonly type: 'recover' };

/** A question for a controller, as the runtime sends it. */
export type ControllerQuestion = {
  readonly id: string;
  readonly app: string;
  readonly env: string;
  readonly version: string;
  readonly deadline: number;
} & (
  | {
      readonly controller: 'selection';
      readonly batch: number;
      readonly count: number;
      readonly mode: 'in-place' | 'replace';
      /** in-place: the targets it may pick from; replace: empty (it names new ones). */
      readonly candidates: readonly string[];
    }
  | { readonly controller: 'approval'; readonly at: 'start' | 'after-canary' }
  | { readonly controller: 'target-monitor'; readonly target: string }
  | {
      readonly controller: 'fleet-monitor';
      readonly purpose: 'canary' | 'batch';
      readonly batch: number;
      readonly targets: readonly string[];
    }
  | {
      readonly controller: 'removal';
      readonly count: number;
      readonly candidates: readonly string[];
    }
);

export type RolloutEffect =
  /** Make the target run this release (null: none); the runtime turns it into the host's desired state. */
  | { readonly type: 'assign'; readonly target: string; readonly version: string | null }
  | { readonly type: 'ask-controller'; readonly question: ControllerQuestion }
  | {
      readonly type: 'mark-release';
      readonly version: string;
      readonly verdict: 'good' | 'bad';
      readonly reason: string;
    }
  | { readonly type: 'record'; readonly at: number; readonly decision: RolloutDecision };

/**
 * The rollout's decisions, typed (prose is made at the edges: describeDecision). Target lists in
 * the state's log are cut to a few names; the record effects carry them whole.
 */
export type RolloutDecision =
  | {
      readonly kind: 'rollout-started';
      readonly version: string;
      readonly from: string | null;
      readonly targets: number;
      readonly actor: string;
      readonly forced: boolean;
    }
  | {
      readonly kind: 'deploy-queued';
      readonly version: string;
      readonly behind: string;
      readonly replaces: string | null;
    }
  | { readonly kind: 'deploy-ignored'; readonly version: string; readonly reason: string }
  | {
      readonly kind: 'rollout-superseded';
      readonly version: string;
      readonly by: string;
      readonly actor: string;
    }
  | { readonly kind: 'queue-dropped'; readonly version: string; readonly reason: string }
  | {
      readonly kind: 'batch-started';
      readonly batch: number;
      readonly of: number;
      readonly batchKind: BatchState['kind'];
      readonly version: string;
      readonly targets: readonly string[];
      readonly count: number;
    }
  | {
      readonly kind: 'assigned';
      readonly batch: number;
      readonly version: string;
      readonly targets: readonly string[];
      readonly count: number;
      /** Targets unavailable once these were assigned, and the budget they stay within (null: none). */
      readonly unavailable: number;
      readonly budget: number | null;
    }
  | {
      readonly kind: 'batch-held';
      readonly batch: number;
      readonly unavailable: number;
      readonly budget: number;
    }
  | {
      readonly kind: 'batch-done';
      readonly batch: number;
      readonly succeeded: number;
      readonly failed: number;
    }
  | {
      readonly kind: 'targets-joined';
      readonly targets: readonly string[];
      readonly count: number;
      readonly assigned: string | null;
    }
  | {
      readonly kind: 'targets-left';
      readonly targets: readonly string[];
      readonly count: number;
      readonly unseenAfterMs: number;
    }
  | {
      readonly kind: 'target-failed';
      readonly target: string;
      readonly version: string;
      readonly reason: string;
    }
  | {
      readonly kind: 'targets-added';
      readonly targets: readonly string[];
      readonly count: number;
      readonly version: string;
    }
  | { readonly kind: 'targets-removed'; readonly targets: readonly string[]; readonly count: number }
  | {
      readonly kind: 'controller-asked';
      readonly controller: ControllerKind;
      readonly id: string;
      readonly deadline: number;
    }
  | {
      readonly kind: 'controller-answered';
      readonly controller: ControllerKind;
      readonly id: string;
      readonly outcome: string;
    }
  | {
      readonly kind: 'controller-failed';
      readonly controller: ControllerKind;
      readonly id: string;
      readonly reason: string;
    }
  | { readonly kind: 'answer-ignored'; readonly id: string; readonly reason: string }
  | { readonly kind: 'canary-paused'; readonly until: number }
  | { readonly kind: 'canary-passed' }
  | {
      readonly kind: 'release-good';
      readonly version: string;
      readonly succeeded: number;
      readonly threshold: number;
      readonly targets: number;
    }
  | {
      readonly kind: 'release-bad';
      readonly version: string;
      /** Targets failed on it, of the targets in the rollout. */
      readonly failed: number;
      readonly targets: number;
      readonly reason: string;
    }
  | {
      readonly kind: 'returning';
      readonly from: string;
      readonly to: string | null;
      readonly reason: ReturnReason;
      readonly message: string;
    }
  | { readonly kind: 'rollout-ended'; readonly status: RolloutStatus; readonly version: string }
  | { readonly kind: 'paused' | 'resumed'; readonly actor: string }
  | { readonly kind: 'recovered' };

export interface RolloutStepResult {
  readonly state: RolloutState;
  readonly effects: readonly RolloutEffect[];
}
