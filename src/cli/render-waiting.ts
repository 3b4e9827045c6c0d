import type { WaitingRelease } from '../api/types.js';
import { formatDateTime, formatUptime } from './format.js';
import { describeTrigger } from './render-trigger.js';

/**
 * The releases waiting to deploy by themselves, a line each: what, where, who brought it, when it is
 * decided again and why it waits (`ferry status`).
 */
export function renderWaiting(waiting: readonly WaitingRelease[], now: number): string[] {
  return waiting.map((w) => {
    const when =
      w.until === null
        ? ''
        : w.until <= now
          ? ', decided again now'
          : `, decided again ${formatDateTime(w.until)} (in ${formatUptime(w.until - now)})`;
    const why = w.reason === null ? '' : `: ${w.reason}`;
    return `waiting: ${w.app} ${w.version} (${w.env}), by ${describeTrigger(w.trigger)}${when}${why}`;
  });
}
