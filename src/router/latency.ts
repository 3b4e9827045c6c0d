import { LATENCY_BUCKETS_SECONDS, type LatencyHistogram } from './types.js';

/** An empty histogram on the router's buckets. */
export function emptyLatency(): LatencyHistogram {
  return {
    le: [...LATENCY_BUCKETS_SECONDS],
    counts: new Array<number>(LATENCY_BUCKETS_SECONDS.length + 1).fill(0),
    sum: 0,
  };
}

/** Counts one duration (seconds) into the histogram. */
export function recordLatency(histogram: LatencyHistogram, seconds: number): void {
  const { le, counts } = histogram;
  let i = 0;
  while (i < le.length && seconds > le[i]!) i++;
  counts[i] = (counts[i] ?? 0) + 1;
  histogram.sum += seconds;
}

/**
 * The sum of two histograms. Both come from routers of one version in practice; if their buckets
 * differ (a successor of another version), the later one's are kept whole.
 */
export function addLatency(
  a: LatencyHistogram | undefined,
  b: LatencyHistogram | undefined,
): LatencyHistogram | undefined {
  if (a === undefined) return b === undefined ? undefined : copyLatency(b);
  if (b === undefined) return copyLatency(a);
  if (a.le.length !== b.le.length || a.le.some((bound, i) => bound !== b.le[i])) return copyLatency(b);
  return { le: [...a.le], counts: a.counts.map((n, i) => n + (b.counts[i] ?? 0)), sum: a.sum + b.sum };
}

export function copyLatency(histogram: LatencyHistogram): LatencyHistogram {
  return { le: [...histogram.le], counts: [...histogram.counts], sum: histogram.sum };
}
