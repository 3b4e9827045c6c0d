import type { Amount } from './types.js';

/**
 * The rollout's arithmetic, rounded exactly as nixmade/orchestrator does (docs/rollouts.md has the
 * table): a percent of n targets is floor(percent x n / 100), at least 1; a count is at most n (and
 * at least 1). Percents are whole numbers, so the products are exact.
 */
export function amountOf(amount: Amount, n: number): number {
  if ('percent' in amount) return Math.max(Math.floor((amount.percent * n) / 100), 1);
  return Math.max(Math.min(amount.count, n), 1);
}

/** How many targets must succeed: floor(successPercent x n / 100) (0 at 0%: good at once). */
export function successThreshold(successPercent: number, n: number): number {
  return Math.floor((successPercent * n) / 100);
}

/** How many failed targets fail the release: the targets that may not succeed, at least 1. */
export function failureThreshold(successPercent: number, n: number): number {
  return Math.max(n - successThreshold(successPercent, n), 1);
}

/** Renders an amount the way options are written: "5%" or "3". */
export function formatAmount(amount: Amount): string {
  return 'percent' in amount ? `${amount.percent}%` : String(amount.count);
}
