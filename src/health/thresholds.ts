import type { HealthSpec, HealthState } from './types.js';

/** A new instance: starting, nothing counted yet; its start period counts from `startedAt`. */
export function initialHealth(startedAt: number): HealthState {
  return { status: 'starting', startedAt, successes: 0, failures: 0 };
}

/**
 * Pure threshold logic (Docker-like): `healthyThreshold` consecutive passes make an instance
 * healthy; after the start period, `unhealthyThreshold` consecutive failures make it unhealthy.
 * Failures inside the start period do not count, so a slow starter is not condemned early.
 */
export function nextHealth(
  state: HealthState,
  result: { ok: boolean; at: number },
  spec: Pick<HealthSpec, 'healthyThreshold' | 'unhealthyThreshold' | 'startPeriodMs'>,
): HealthState {
  if (result.ok) {
    const successes = state.successes + 1;
    const status = successes >= spec.healthyThreshold ? 'healthy' : state.status;
    return { ...state, status, successes, failures: 0 };
  }
  if (state.status === 'starting' && result.at - state.startedAt < spec.startPeriodMs) {
    return { ...state, successes: 0 };
  }
  const failures = state.failures + 1;
  const status = failures >= spec.unhealthyThreshold ? 'unhealthy' : state.status;
  return { ...state, status, successes: 0, failures };
}
