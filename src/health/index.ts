export { HealthMonitor, type HealthMonitorLifecycle, type HealthMonitorOptions } from './monitor.js';
export { probe } from './probe.js';
export { initialHealth, nextHealth } from './thresholds.js';
export type {
  HealthCheckSpec,
  HealthSpec,
  HealthState,
  HealthStatus,
  ProbeResult,
  ProbeTarget,
} from './types.js';
