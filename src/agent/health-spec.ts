import type { HealthConfig } from '../config/types.js';
import type { HealthSpec } from '../health/index.js';

/**
 * The health monitor's spec for an app's instances. A rollback's instances come from a release
 * already proven on this host, so one passing check admits them ("instant" rollback); failures
 * still count as configured.
 */
export function toHealthSpec(config: HealthConfig, quick: boolean): HealthSpec {
  return {
    check: config.check,
    intervalMs: config.intervalMs,
    timeoutMs: config.timeoutMs,
    healthyThreshold: quick ? 1 : config.healthyThreshold,
    unhealthyThreshold: config.unhealthyThreshold,
    startPeriodMs: config.startPeriodMs,
  };
}
