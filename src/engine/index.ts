export { step } from './step.js';
export { applyCommand, commandError } from './commands.js';
export { canaryWeightError, isCanaryWeight, setCanaryWeight } from './canary-weight.js';
export { createDeployment, describeProgress, type DeploymentPlan } from './create.js';
export {
  chooseRollbackTarget,
  mayDeployAutomatically,
  type LedgerChoice,
  type LedgerEntry,
} from './ledger.js';
export * from './types.js';
