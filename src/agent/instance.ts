import type { HealthMonitor, HealthStatus, ProbeResult } from '../health/index.js';
import type { InstanceRecord } from '../store/store.js';
import type { InstanceSpec } from '../supervisor/index.js';

/**
 * One running process of a release, as the agent tracks it.
 * Lifecycle: 'serving' (in the router, health checked) -> 'retiring' (out of the router, draining,
 * then stopped) -> gone.
 */
export interface TrackedInstance {
  record: InstanceRecord;
  readonly spec: InstanceSpec;
  /** How it was run (see runDigest); null for an adopted instance that does not say (an older Ferry). */
  readonly runDigest: string | null;
  monitor: HealthMonitor | null;
  health: HealthStatus;
  /** Set once the instance has passed its checks; a later 'unhealthy' then counts as a failure. */
  everHealthy: boolean;
  lastFailure: ProbeResult | null;
  phase: 'serving' | 'retiring';
}

export function isFailed(instance: TrackedInstance): boolean {
  return instance.record.state === 'crash-loop' || instance.health === 'unhealthy';
}

export function isRunning(instance: TrackedInstance): boolean {
  return instance.record.state === 'running' || instance.record.state === 'starting';
}
