import type { ControllerKind, LogEntry, RolloutState } from '../../rollout/index.js';

/** Which way a rollout moves its targets: to its release, or back to last known good. */
export type RolloutDirection = RolloutState['direction'];

/**
 * The outside world of a rollout run, as small interfaces: who the targets are (a TargetDriver),
 * where release verdicts go, where decisions go. The run itself is the same whoever the targets
 * are: Ferry's own hosts (an assignment edits a host's desired state) or targets outside Ferry
 * (an assignment is state the client reads back with its next report).
 */

/** Tells targets which release to run. */
export interface TargetDriver {
  /**
   * Makes `target` run `version` (null: run nothing, a target removed in replace mode). Called
   * after the state that decided it is persisted, in the order decided; idempotent (after a
   * restart every target is told its release again). A rejection is retried at the next tick.
   * `direction`: forward while the rollout moves targets to its release, back while it returns
   * them to last known good (a host's own canary applies only forward: a return goes at once).
   */
  assign(target: string, version: string | null, direction: RolloutDirection): Promise<void>;
}

/** A release judged by a rollout: good (last known good) or bad (last known bad). */
export interface ReleaseVerdict {
  /** The rollout's store key (`/rollouts/...`). */
  readonly rollout: string;
  readonly version: string;
  readonly verdict: 'good' | 'bad';
  readonly reason: string;
  /** When it was judged (ms since the epoch, the run's clock). */
  readonly at: number;
}

/** Where release verdicts are recorded (the release ledger of what the rollout moves). */
export interface ReleaseVerdicts {
  mark(verdict: ReleaseVerdict): Promise<void>;
}

/** Where a rollout's decisions go as they are made (logs, event streams, the recent ones kept). */
export interface DecisionSink {
  /**
   * `rollout`: the rollout's store key; `state`: the rollout as the step that made the decision
   * left it. Called once that state is persisted.
   */
  record(rollout: string, entry: LogEntry, state: RolloutState): void;
}

/** Where each controller of a rollout is asked: an http(s) URL, which may carry credentials. */
export type ControllerEndpoints = { readonly [K in ControllerKind]?: string };
