import type { RolloutState } from '../../rollout/index.js';

/**
 * True when a step changed nothing but the state's time: a tick while nothing is due. Such a
 * state is not written (a tick every second would otherwise write every rollout every second).
 * The engine copies on write, so an unchanged part is the very same object: comparing references
 * (and the arrays' elements) is exact and costs one pass, not a serialization.
 */
export function isUnchanged(before: RolloutState, after: RolloutState): boolean {
  for (const key of Object.keys(after) as (keyof RolloutState)[]) {
    if (key === 'updatedAt') continue;
    const a = before[key];
    const b = after[key];
    if (a === b) continue;
    if (!Array.isArray(a) || !Array.isArray(b) || !sameElements(a, b)) return false;
  }
  return Object.keys(before).length === Object.keys(after).length;
}

function sameElements(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
