import type { AnalysisSpec, TrafficWindow } from './types.js';

/**
 * What a canary step's window shows so far:
 * - failing: its errors already exceed the allowed rate even for the minimum sample
 *   (errors / max(requests, minRequests) > maxErrorRate): 10 errors in 10 requests fail at once with
 *   a minimum of 20 and 5%, and no later success can save it.
 * - enough: at least minRequests requests, with an error rate at or under the maximum.
 * - short: too few requests to say either (absence of evidence is not success).
 */
export type WindowVerdict = 'failing' | 'enough' | 'short';

/** Judges a canary window against its analysis settings. */
export function judgeWindow(traffic: TrafficWindow, analysis: AnalysisSpec): WindowVerdict {
  const sample = Math.max(traffic.requests, analysis.minRequests, 1);
  if (traffic.errors / sample > analysis.maxErrorRate) return 'failing';
  return traffic.requests >= analysis.minRequests ? 'enough' : 'short';
}

/** "3/40 errors (7.5%)" */
export function describeWindow(traffic: TrafficWindow): string {
  const rate = traffic.requests > 0 ? ` (${((100 * traffic.errors) / traffic.requests).toFixed(1)}%)` : '';
  return `${traffic.errors}/${traffic.requests} errors${rate}`;
}
