export { Supervisor, type SupervisorLifecycle, type SupervisorOptions } from './supervisor.js';
export { killProcessTree } from './terminate.js';
export { readPidStart, isProcessAlive } from './proc.js';
export { readProcessUsage, type ProcessTotals } from './process-usage.js';
export { findMarkedProcesses, ownerMarker, type InstanceLabels, type MarkedProcess } from './markers.js';
export { allocatePort } from './port.js';
export { BASE_VARS, baseEnvironment, instanceEnvironment } from './spawn.js';
export { RUN_DIGEST_VAR, runDigest } from './run-digest.js';
export { readCmdline, readEnviron, readOwner } from './proc.js';
export { accountSpawnOptions, resolveAppAccounts, resolveRunAccount, type RunAccount } from './account.js';
export { LogRotator, rotateLog, tailLog, type LogRotatorLifecycle, type RotationOptions } from './logs.js';
export { readLogAfter, readLogTail, type LogRead, type LogReadOptions } from './log-cursor.js';
export { planRestart, type RestartPlan } from './restart-policy.js';
export type { ProcessUsage } from './usage-sampler.js';
export {
  DEFAULT_RESTART_POLICY,
  type InstanceLifecycle,
  type InstanceSpec,
  type ProcessIdentity,
  type RestartPolicy,
  type SupervisorEvent,
} from './types.js';
