import type { FleetRollout } from '../api/types.js';
import { formatDateTime } from './format.js';
import { describeTrigger } from './render-trigger.js';

/** How a rollout ended, for `--wait`'s exit code: only a success is 0. */
export const ENDED_STATUSES: ReadonlySet<string> = new Set(['succeeded', 'rolled-back', 'aborted', 'failed']);

/** One line: the app, the environment, where its rollout across the hosts stands. */
export function renderRolloutLine(rollout: FleetRollout): string {
  return `${rollout.app} (${rollout.env}) across its hosts: ${rollout.status}: ${rollout.progress}`;
}

/**
 * A rollout as `ferry status` shows it: where it stands, its releases (last known good and bad, a
 * queued one), what it waits for, then each host with the release it is told to run, what it
 * reports, and its status in the rollout.
 */
export function renderRollout(rollout: FleetRollout, now = Date.now()): string {
  const lines = [renderRolloutLine(rollout)];
  const releases = [
    `last known good: ${rollout.lkg ?? 'none'}`,
    ...(rollout.lkb !== null ? [`last known bad: ${rollout.lkb}`] : []),
    ...(rollout.queued !== null ? [`queued: ${rollout.queued}`] : []),
    // Absent from a daemon older than triggers.
    ...(rollout.trigger ? [`started by ${describeTrigger(rollout.trigger)}`] : []),
  ];
  lines.push(`  ${releases.join('  ')}`);
  if (rollout.gate !== null)
    lines.push(
      `  waiting for: ${rollout.gate.kind}${rollout.gate.until !== null ? ` until ${formatDateTime(rollout.gate.until)}` : ''}`,
    );
  if (rollout.ending !== null) lines.push(`  ended: ${rollout.ending.reason}: ${rollout.ending.message}`);
  if (rollout.targets.length === 0) lines.push('  no host has reported yet');
  for (const t of rollout.targets) {
    const seen =
      t.lastSeenAt === null ? 'never' : `${Math.max(0, Math.round((now - t.lastSeenAt) / 1000))}s ago`;
    const runs = t.reported === null ? 'nothing' : `${t.reported}${t.healthy ? '' : ' (not healthy)'}`;
    const why = t.failure ?? (t.healthy ? null : t.message);
    lines.push(
      `    ${t.name}  ${t.status}  told ${t.assigned ?? '-'}  runs ${runs}  seen ${seen}${why ? `  ${why}` : ''}`,
    );
  }
  return lines.join('\n');
}

/** Decisions not printed yet (after `seen` of them), one line each, for `--wait`. */
export function newDecisions(rollout: FleetRollout, printed: Set<string>): string[] {
  const lines: string[] = [];
  for (const d of rollout.decisions) {
    const key = `${d.at}:${d.kind}:${d.message}`;
    if (printed.has(key)) continue;
    printed.add(key);
    lines.push(`  ${d.message}`);
  }
  return lines;
}
