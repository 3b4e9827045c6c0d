export { step } from './step.js';
export { createRollout, type RolloutSeed } from './create.js';
export { commandError, deployError } from './deploy.js';
export {
  DEFAULT_CANARY,
  DEFAULT_CONTROLLER_TIMEOUT_MS,
  DEFAULT_ROLLOUT_OPTIONS,
  parseAmount,
  resolveRolloutOptions,
  rolloutOptionProblems,
  type RolloutOptionProblem,
  type RolloutOptionsInput,
} from './options.js';
export { amountOf, failureThreshold, formatAmount, successThreshold } from './sizes.js';
export { describeProgress, formatProgress, type RolloutProgress } from './progress.js';
export { planRollout, renderPlan, type PlanStart, type PlanStep, type RolloutPlan } from './plan.js';
export { describeDecision } from './describe.js';
export { isUnavailable } from './target-state.js';
export * from './types.js';
export * from './events.js';
