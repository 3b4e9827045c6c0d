import type { RolloutState, RolloutTarget, TargetStatus } from './types.js';

/** Predicates over one target and the rollout, shared by the engine, its progress and its plan. */

const IN_FLIGHT: ReadonlySet<TargetStatus> = new Set(['converging', 'soaking', 'verifying']);

/** Still part of the rollout (a removed target only waits to be forgotten). */
export function isActive(t: RolloutTarget): boolean {
  return t.status !== 'removed';
}

/** Assigned a release it has not yet succeeded or failed on. */
export function isInFlight(t: RolloutTarget): boolean {
  return IN_FLIGHT.has(t.status);
}

/** Its last report shows it healthy on the release it is assigned. */
export function isServing(t: RolloutTarget): boolean {
  return t.assigned !== null && t.healthy && t.reported === t.assigned;
}

/**
 * Counts against the max-unavailable budget: in flight, failed, without a release, or not serving
 * its release healthily by its last report.
 */
export function isUnavailable(t: RolloutTarget): boolean {
  return isInFlight(t) || t.status === 'failed' || t.status === 'unassigned' || !isServing(t);
}

/** The release targets are moved to now: the rolling one, or last known good on the way back. */
export function effectiveVersion(s: Pick<RolloutState, 'direction' | 'rolling' | 'lkg'>): string | null {
  return s.direction === 'forward' ? s.rolling : s.lkg;
}

/**
 * The rollout judges its release: forward, running or paused, and not yet last known good. Only
 * then do thresholds, monitors and the canary apply.
 */
export function isJudging(s: Pick<RolloutState, 'direction' | 'status' | 'rolling' | 'lkg'>): boolean {
  return (
    s.direction === 'forward' &&
    (s.status === 'running' || s.status === 'paused') &&
    s.rolling !== null &&
    s.rolling !== s.lkg
  );
}
