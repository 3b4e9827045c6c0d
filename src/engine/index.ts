export { step } from './step.js';
export { commandError } from './commands.js';
export { createDeployment, describeProgress, type DeploymentPlan } from './create.js';
export { chooseRollbackTarget, type LedgerEntry, type RollbackChoice } from './ledger.js';
export * from './types.js';
