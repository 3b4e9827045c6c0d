import type { AppConfig } from '../config/types.js';
import type { StrategyKind, StrategySpec } from '../engine/types.js';

/** The app's strategy, or another kind asked for at deploy time, with the app's settings. */
export function compileStrategyKind(app: AppConfig, kind: StrategyKind): StrategySpec {
  const healthDeadlineMs = app.health.deadlineMs;
  return kind === 'canary' ? { kind, healthDeadlineMs, ...app.canary } : { kind, healthDeadlineMs };
}
