import { triggerOf } from '../releases/trigger.js';
import { ask, dropGateCalls } from './ask.js';
import type { Draft } from './draft.js';
import { isActive, isServing } from './target-state.js';
import type { ReturnReason, RolloutStatus } from './types.js';

/** The rollout as a whole: start, last known good, last known bad, the return, the end. */

/** Starts rolling out `version` (forward, batch by batch; behind an approval when configured). */
export function startRollout(d: Draft, version: string, actor: string, forced: boolean): void {
  const s = d.s;
  const from = s.lkg;
  s.rolling = version;
  s.targetVersion = version;
  s.direction = 'forward';
  s.status = 'running';
  s.ending = null;
  s.batch = null;
  s.batches = 0;
  s.gate = null;
  s.canaryPassed = d.options.canary === null;
  s.startedAt = d.now;
  s.trigger = triggerOf(actor);
  // Deploying the last known bad release again (forced) judges it afresh.
  if (s.lkb === version) s.lkb = null;
  dropGateCalls(d);
  settleVerdicts(d);
  let n = 0;
  for (let i = 0; i < d.targets.length; i++) {
    const t = d.targets[i]!;
    if (!isActive(t)) continue;
    n++;
    // Targets on this release already prove it again, from now.
    if (t.assigned === version) {
      const serving = isServing(t);
      d.update(i, {
        assignedAt: d.now,
        healthySince: serving ? d.now : null,
        status: serving ? 'soaking' : 'converging',
        failure: null,
      });
    }
  }
  d.record({ kind: 'rollout-started', version, from, targets: n, actor, forced });
  const approval = d.options.controllers.approval;
  if (approval !== null && approval.at === 'start') {
    const call = ask(d, { controller: 'approval', version, at: 'start' });
    s.gate = { kind: 'approval', at: 'start', call };
  }
}

/** The rolling release reached its success threshold: it is last known good. */
export function markGood(d: Draft, succeeded: number, threshold: number, targets: number): void {
  const version = d.s.rolling!;
  d.s.lkg = version;
  d.emit({
    type: 'mark-release',
    version,
    verdict: 'good',
    reason: `${succeeded} of ${targets} target(s) succeeded (${threshold} needed)`,
  });
  d.record({ kind: 'release-good', version, succeeded, threshold, targets });
}

/** The rolling release failed: it is last known bad, and every target returns to last known good. */
export function failRelease(d: Draft, reason: string): void {
  const version = d.s.rolling!;
  let failed = 0;
  let targets = 0;
  for (const t of d.targets) {
    if (!isActive(t)) continue;
    targets++;
    if (t.assigned === version && t.status === 'failed') failed++;
  }
  d.s.lkb = version;
  d.emit({ type: 'mark-release', version, verdict: 'bad', reason });
  d.record({ kind: 'release-bad', version, failed, targets, reason });
  beginReturn(d, 'failure', reason);
}

/**
 * Every target returns to last known good, batch by batch (the targets that switched already
 * included): after a failure, an abort, a denied approval or a failed controller. With no last
 * known good there is nothing to return to: the rollout ends where it is.
 */
export function beginReturn(d: Draft, reason: ReturnReason, message: string): void {
  const s = d.s;
  s.direction = 'back';
  s.ending = { reason, message };
  s.batch = null;
  s.gate = null;
  dropGateCalls(d);
  settleVerdicts(d);
  if (s.lkg === null) {
    endRollout(d, reason === 'failure' ? 'failed' : 'aborted');
    return;
  }
  s.status = 'rolling-back';
  d.record({ kind: 'returning', from: s.rolling ?? '', to: s.lkg, reason, message });
}

/** Ends the rollout; a release queued behind it starts now. */
export function endRollout(d: Draft, status: RolloutStatus): void {
  const s = d.s;
  s.status = status;
  s.batch = null;
  s.gate = null;
  dropGateCalls(d);
  d.record({ kind: 'rollout-ended', status, version: s.rolling ?? '' });
  const queued = s.queued;
  if (queued === null) return;
  s.queued = null;
  if (queued.version === s.lkg) {
    d.record({ kind: 'deploy-ignored', version: queued.version, reason: 'it is last known good already' });
  } else if (queued.version === s.lkb) {
    s.targetVersion = s.rolling;
    d.record({
      kind: 'deploy-ignored',
      version: queued.version,
      reason: 'it is last known bad (it failed while queued); deploy it again with force',
    });
  } else {
    startRollout(d, queued.version, queued.actor, false);
  }
}

/**
 * Pending target verdicts no longer matter once the rollout changes course: targets waiting for
 * the target monitor go back to soaking (they settle on their soak alone when not judged).
 */
function settleVerdicts(d: Draft): void {
  if (!d.calls.some((c) => c.controller === 'target-monitor')) return;
  d.calls = d.calls.filter((c) => c.controller !== 'target-monitor');
  for (let i = 0; i < d.targets.length; i++)
    if (d.targets[i]!.status === 'verifying') d.update(i, { status: 'soaking' });
}
