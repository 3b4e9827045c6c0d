import { formatDuration } from '../lib/duration.js';
import { exitReason } from '../lib/exit-reason.js';
import type { SupervisorEvent } from '../supervisor/index.js';

/**
 * What an instance's crash, restart or crash loop says in its app's event stream, or null for a
 * supervisor event that is not one of those (a start, a stop asked for).
 */
export function describeInstanceEvent(
  event: SupervisorEvent,
  version: string,
  lastExit: { code: number | null; signal: string | null } | null,
): { message: string; data: Record<string, unknown> } | null {
  const who = `instance ${event.id} of ${version}`;
  switch (event.type) {
    case 'restarting': {
      const how = lastExit === null ? 'exited' : `exited with ${exitReason(lastExit)}`;
      return {
        message: `${who} ${how}; restart ${event.restarts} in ${formatDuration(event.inMs)}`,
        data: { instance: event.id, version, ...lastExit, restarts: event.restarts, inMs: event.inMs },
      };
    }
    case 'crash-loop':
      return {
        message: `${who} keeps crashing (${event.restarts} restarts): crash loop, restarted with backoff`,
        data: { instance: event.id, version, restarts: event.restarts },
      };
    case 'started':
      if (event.restarts === 0) return null;
      return {
        message: `${who} restarted (pid ${event.pid}, restart ${event.restarts})`,
        data: { instance: event.id, version, pid: event.pid, restarts: event.restarts },
      };
    default:
      return null;
  }
}
