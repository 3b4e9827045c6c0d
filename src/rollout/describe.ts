import { formatDuration } from '../lib/duration.js';
import type { RolloutDecision } from './events.js';

/** How many target names a sentence lists before "and N more". */
const SHOWN = 5;

/**
 * A decision as one sentence, for the CLI, the UI and logs (the engine itself records typed
 * decisions). Times are absolute ms; `now` turns deadlines into "in 30s".
 */
export function describeDecision(d: RolloutDecision, now: number): string {
  switch (d.kind) {
    case 'rollout-started':
      return `rolling out ${d.version} (from ${d.from ?? 'nothing'}) on ${d.targets} target(s), asked by ${d.actor}${d.forced ? ' (forced)' : ''}`;
    case 'deploy-queued':
      return `${d.version} queued behind the rollout of ${d.behind}${d.replaces ? ` (replacing ${d.replaces} in the queue)` : ''}`;
    case 'deploy-ignored':
      return `deploy of ${d.version} not taken: ${d.reason}`;
    case 'rollout-superseded':
      return `the rollout of ${d.version} is superseded by ${d.by} (forced by ${d.actor}); ${d.version} is not judged`;
    case 'queue-dropped':
      return `queued ${d.version} dropped: ${d.reason}`;
    case 'batch-started':
      return `${d.batchKind === 'canary' ? 'canary batch' : d.batchKind === 'rollback' ? 'return batch' : 'batch'} ${d.batch} of ${d.of}: ${names(d.targets, d.count)} to ${d.version}`;
    case 'assigned':
      return `${names(d.targets, d.count)} told to run ${d.version}; ${d.unavailable} unavailable${d.budget === null ? '' : ` (budget ${d.budget})`}`;
    case 'batch-held':
      return `batch ${d.batch} waits: ${d.unavailable} target(s) unavailable, the budget is ${d.budget}`;
    case 'batch-done':
      return `batch ${d.batch} done: ${d.succeeded} succeeded, ${d.failed} failed`;
    case 'targets-joined':
      return `${names(d.targets, d.count)} joined${d.assigned ? `, told to run ${d.assigned}` : ' (no release yet)'}`;
    case 'targets-left':
      return `${names(d.targets, d.count)} left the rollout: not seen for ${formatDuration(d.unseenAfterMs)}`;
    case 'target-failed':
      return `${d.target} failed on ${d.version}: ${d.reason}`;
    case 'targets-added':
      return `${names(d.targets, d.count)} added on ${d.version}`;
    case 'targets-removed':
      return `${names(d.targets, d.count)} removed`;
    case 'controller-asked':
      return `asked the ${d.controller} controller (${d.id}), answer due in ${formatDuration(Math.max(0, d.deadline - now))}`;
    case 'controller-answered':
      return `the ${d.controller} controller answered (${d.id}): ${d.outcome}`;
    case 'controller-failed':
      return `the ${d.controller} controller failed (${d.id}): ${d.reason}`;
    case 'answer-ignored':
      return `an answer to ${d.id} was ignored: ${d.reason}`;
    case 'canary-paused':
      return `canary succeeded; pausing for ${formatDuration(Math.max(0, d.until - now))}`;
    case 'canary-passed':
      return 'canary passed; the rest follows';
    case 'release-good':
      return `${d.version} is last known good: ${d.succeeded} of ${d.targets} target(s) succeeded (${d.threshold} needed)`;
    case 'release-bad':
      return `${d.version} is last known bad: ${d.reason}`;
    case 'returning':
      return `every target returns to ${d.to ?? 'nothing'} from ${d.from}, batch by batch: ${d.message}`;
    case 'rollout-ended':
      return `the rollout of ${d.version} ended: ${d.status}`;
    case 'paused':
      return `paused by ${d.actor}`;
    case 'resumed':
      return `resumed by ${d.actor}`;
    case 'recovered':
      return 'resumed after a restart: assignments and pending questions sent again';
  }
}

function names(list: readonly string[], count: number): string {
  const shown = list.slice(0, SHOWN).join(', ');
  const more = count - Math.min(list.length, SHOWN);
  return more > 0 ? `${shown} and ${more} more` : shown;
}
