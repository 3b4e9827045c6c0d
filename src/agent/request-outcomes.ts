import type { OutcomeCounts } from '../engine/served-report.js';
import type { RequestOutcomes } from '../router/types.js';

/**
 * The router's request outcomes of a route as the served-request report counts them: answers below
 * 500 and 5xx answers per release, resets and timeouts per release, and the route's held, rejected
 * and abandoned requests. A router older than the outcomes reports none: all zero.
 */
export function toOutcomeCounts(outcomes: RequestOutcomes | undefined): OutcomeCounts {
  if (outcomes === undefined) return { releases: [], held: 0, rejected: 0, abandoned: 0 };
  return {
    releases: outcomes.releases.map((r) => ({
      version: r.release,
      answered: r.responses['1xx'] + r.responses['2xx'] + r.responses['3xx'] + r.responses['4xx'],
      serverError: r.responses['5xx'],
      reset: r.reset,
      timeout: r.timeout,
    })),
    held: outcomes.held,
    rejected: outcomes.rejected,
    abandoned: outcomes.abandoned,
  };
}
