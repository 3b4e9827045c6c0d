import { answerCall, callFailed, expireCalls } from './answers.js';
import { advance } from './batches.js';
import { decide } from './decide.js';
import { applyCommand, applyDeploy } from './deploy.js';
import { Draft } from './draft.js';
import { judgeTargets } from './judge.js';
import { recover } from './recover.js';
import { applyReports, dropUnseen } from './reports.js';
import type { RolloutState } from './types.js';
import type { RolloutEvent, RolloutStepResult } from './events.js';

/**
 * The fleet rollout engine: (state, event, now) -> (next state, effects). Pure: no I/O, no clock,
 * no randomness. One call does what nixmade/orchestrator's Orchestrate does and more: take in the
 * event (reports, a deploy, a controller's answer, an operator's command), fail controller calls
 * past their deadline, drop targets unseen for too long, judge each target (soak, deadline), apply
 * the thresholds (last known good, last known bad), and move the batches on. The runtime persists
 * `state` before it executes `effects`.
 */
export function step(state: RolloutState, event: RolloutEvent, now: number): RolloutStepResult {
  const d = new Draft(state, now);
  switch (event.type) {
    case 'reported':
      applyReports(d, event.reports);
      break;
    case 'deploy':
      applyDeploy(d, event.version, event.force ?? false, event.actor ?? 'request');
      break;
    case 'controller-answered':
      answerCall(d, event.id, event.answer);
      break;
    case 'controller-failed':
      callFailed(d, event.id, event.error);
      break;
    case 'command':
      applyCommand(d, event.command, event.actor ?? 'request');
      break;
    case 'recover':
      recover(d);
      break;
    case 'tick':
      break;
  }
  expireCalls(d);
  dropUnseen(d);
  judgeTargets(d);
  // Twice: an end (or a gate that just passed) may let a decision, or the queued rollout, begin.
  decide(d);
  advance(d);
  decide(d);
  advance(d);
  return d.finish();
}
