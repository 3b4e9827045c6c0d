export { step } from './step.js';
export { applyCommand, commandError } from './commands.js';
export { createDeployment, describeProgress, type DeploymentPlan } from './create.js';
export {
  chooseRollbackTarget,
  mayDeployAutomatically,
  type LedgerChoice,
  type LedgerEntry,
} from './ledger.js';
export * from './types.js';
