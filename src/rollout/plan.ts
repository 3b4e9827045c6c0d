import { formatDuration } from '../lib/duration.js';
import { activeCount, budgetOf, waitingTargets } from './batches.js';
import { amountOf, failureThreshold, formatAmount, successThreshold } from './sizes.js';
import { step } from './step.js';
import type { Amount, RolloutOptions, RolloutState } from './types.js';
import type { RolloutDecision } from './events.js';

/** One step of a rollout plan: a batch of targets, or a gate before the next batch. */
export type PlanStep =
  | {
      readonly kind: 'batch';
      readonly index: number;
      readonly batchKind: 'canary' | 'batch';
      /** The targets, in the default order (a selection controller picks them at run time). */
      readonly targets: readonly string[];
      readonly count: number;
    }
  | { readonly kind: 'approval'; readonly at: 'start' | 'after-canary'; readonly timeoutMs: number }
  | { readonly kind: 'canary-pause'; readonly pauseMs: number }
  | { readonly kind: 'analysis' | 'fleet-monitor'; readonly timeoutMs: number }
  | { readonly kind: 'removal'; readonly count: number; readonly timeoutMs: number };

/** What a deploy would do now: start, wait behind the running rollout, or nothing (and why). */
export type PlanStart =
  | { readonly kind: 'now' }
  | { readonly kind: 'queued'; readonly behind: string }
  | { readonly kind: 'superseding'; readonly rollout: string }
  | { readonly kind: 'nothing'; readonly reason: string };

/** `ferry deploy --dry-run`: the batches, the targets in each, the budgets and the gates. */
export interface RolloutPlan {
  readonly app: string;
  readonly env: string;
  readonly version: string;
  readonly from: string | null;
  readonly start: PlanStart;
  readonly mode: RolloutOptions['mode'];
  readonly targets: number;
  readonly batch: Amount;
  readonly batchSize: number;
  readonly canarySize: number | null;
  readonly maxUnavailable: Amount | null;
  /** The max-unavailable budget; null when none is configured. */
  readonly budget: number | null;
  readonly successPercent: number;
  readonly successThreshold: number;
  readonly failureThreshold: number;
  readonly soakMs: number;
  readonly deadlineMs: number;
  /** A selection controller picks each batch's targets at run time (the plan shows the default order). */
  readonly selection: boolean;
  readonly steps: readonly PlanStep[];
}

/**
 * Plans a deploy of `version` from the current state. What the deploy would do is found by the
 * engine's own step (the same code that will apply it); the batches follow the engine's batch
 * order and sizes, as they go when every target succeeds and nothing joins or leaves.
 */
export function planRollout(state: RolloutState, version: string, now: number, force = false): RolloutPlan {
  const after = step(state, { type: 'deploy', version, force, actor: 'plan' }, now);
  const decisions = after.effects.flatMap((e) => (e.type === 'record' ? [e.decision] : []));
  const start = planStart(decisions);
  const o = state.options;
  const view = { targets: state.targets, options: o, s: { direction: 'forward' as const } };
  const n = activeCount(view);
  const order = waitingTargets(view, version).map((t) => t.name);
  const batchSize = amountOf(o.batch, n);
  const canarySize = o.canary === null ? null : amountOf(o.canary.size, n);
  const c = o.controllers;
  const steps: PlanStep[] = [];
  if (c.approval?.at === 'start')
    steps.push({ kind: 'approval', at: 'start', timeoutMs: c.approval.timeoutMs });
  let next = 0;
  let index = 0;
  while (next < order.length) {
    const canary = index === 0 && canarySize !== null;
    const size = canary ? canarySize : batchSize;
    const targets = order.slice(next, next + size);
    next += targets.length;
    index += 1;
    steps.push({
      kind: 'batch',
      index,
      batchKind: canary ? 'canary' : 'batch',
      targets,
      count: targets.length,
    });
    if (o.mode === 'replace' && c.removal !== null)
      steps.push({ kind: 'removal', count: targets.length, timeoutMs: c.removal.timeoutMs });
    if (canary && o.canary !== null) {
      if (o.canary.pauseMs > 0) steps.push({ kind: 'canary-pause', pauseMs: o.canary.pauseMs });
      if (o.canary.analysis && c.fleetMonitor !== null)
        steps.push({ kind: 'analysis', timeoutMs: c.fleetMonitor.timeoutMs });
      if (c.approval?.at === 'after-canary')
        steps.push({ kind: 'approval', at: 'after-canary', timeoutMs: c.approval.timeoutMs });
    } else if (c.fleetMonitor !== null) {
      steps.push({ kind: 'fleet-monitor', timeoutMs: c.fleetMonitor.timeoutMs });
    }
  }
  return {
    app: state.app,
    env: state.env,
    version,
    from: state.lkg,
    start,
    mode: o.mode,
    targets: n,
    batch: o.batch,
    batchSize,
    canarySize,
    maxUnavailable: o.maxUnavailable,
    budget: budgetOf(view),
    successPercent: o.successPercent,
    successThreshold: successThreshold(o.successPercent, n),
    failureThreshold: failureThreshold(o.successPercent, n),
    soakMs: o.soakMs,
    deadlineMs: o.deadlineMs,
    selection: c.selection !== null,
    steps,
  };
}

function planStart(decisions: readonly RolloutDecision[]): PlanStart {
  for (const d of decisions) {
    if (d.kind === 'deploy-ignored') return { kind: 'nothing', reason: d.reason };
    if (d.kind === 'deploy-queued') return { kind: 'queued', behind: d.behind };
    if (d.kind === 'rollout-superseded') return { kind: 'superseding', rollout: d.version };
    if (d.kind === 'rollout-started') return { kind: 'now' };
  }
  return { kind: 'nothing', reason: 'the deploy changes nothing' };
}

/** How many target names a rendered batch shows before "and N more". */
const SHOWN = 8;

/** The plan as a few lines of text for a terminal. */
export function renderPlan(plan: RolloutPlan): string {
  const lines: string[] = [];
  const mode = plan.mode === 'replace' ? 'by replacement' : 'in place';
  lines.push(
    `Rollout of ${plan.app} in ${plan.env}: ${plan.from ?? 'nothing'} -> ${plan.version} on ${plan.targets} target(s), ${mode}`,
  );
  switch (plan.start.kind) {
    case 'nothing':
      lines.push(`  nothing to do: ${plan.start.reason}`);
      return lines.join('\n');
    case 'queued':
      lines.push(`  starts once the rollout of ${plan.start.behind} ends (queued)`);
      break;
    case 'superseding':
      lines.push(`  supersedes the rollout of ${plan.start.rollout} (forced)`);
      break;
    case 'now':
      break;
  }
  const canary = plan.canarySize === null ? '' : `, canary ${plan.canarySize}`;
  const budget =
    plan.budget === null || plan.maxUnavailable === null
      ? 'no max-unavailable budget'
      : `at most ${plan.budget} unavailable at once (${formatAmount(plan.maxUnavailable)})`;
  lines.push(`  batches of ${plan.batchSize} (${formatAmount(plan.batch)})${canary}; ${budget}`);
  lines.push(
    `  good once ${plan.successThreshold} of ${plan.targets} succeed (${plan.successPercent}%); ${plan.failureThreshold} failed target(s) roll every target back to ${plan.from ?? 'nothing'}`,
  );
  lines.push(
    `  a target succeeds once healthy on ${plan.version} for ${formatDuration(plan.soakMs)}, and fails if not healthy within ${formatDuration(plan.deadlineMs)}`,
  );
  if (plan.selection)
    lines.push('  the selection controller picks each batch at run time; shown: the default order');
  let k = 0;
  const batches = plan.steps.filter((s) => s.kind === 'batch').length;
  for (const s of plan.steps) {
    k += 1;
    lines.push(`  ${k}. ${describeStep(s, batches, plan.mode)}`);
  }
  return lines.join('\n');
}

function describeStep(s: PlanStep, batches: number, mode: RolloutOptions['mode']): string {
  switch (s.kind) {
    case 'batch': {
      const what = s.batchKind === 'canary' ? 'canary batch' : 'batch';
      if (mode === 'replace')
        return `${what} ${s.index} of ${batches}: ${s.count} new target(s) named by the selection controller, replacing ${names(s.targets)}`;
      return `${what} ${s.index} of ${batches}: ${names(s.targets)}`;
    }
    case 'approval':
      return `approval (up to ${formatDuration(s.timeoutMs)}; no answer is a denial)`;
    case 'canary-pause':
      return `pause ${formatDuration(s.pauseMs)}`;
    case 'analysis':
      return `the fleet monitor's verdict on the canary (up to ${formatDuration(s.timeoutMs)})`;
    case 'fleet-monitor':
      return `the fleet monitor's verdict (up to ${formatDuration(s.timeoutMs)})`;
    case 'removal':
      return `the removal controller removes ${s.count} old target(s) (up to ${formatDuration(s.timeoutMs)})`;
  }
}

function names(list: readonly string[]): string {
  if (list.length <= SHOWN) return list.join(', ');
  return `${list.slice(0, SHOWN).join(', ')} and ${list.length - SHOWN} more`;
}
