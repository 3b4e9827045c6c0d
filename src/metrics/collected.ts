import type { Metric, Registry } from 'prom-client';
import type { LatencyHistogram } from '../router/types.js';

export type Labels = Record<string, string>;

export interface Sample {
  readonly labels: Labels;
  readonly value: number;
  /** For a histogram's series: name_bucket, name_sum, name_count. */
  readonly metricName?: string;
}

export interface CollectedMetricSpec {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  /** The samples as they are at scrape time. */
  readonly collect: () => readonly Sample[];
}

/**
 * Registers a metric whose values are read at scrape time rather than counted by the registry:
 * cumulative counts kept elsewhere (the router's, an instance's CPU time) and histograms whose
 * buckets were counted elsewhere (the router's latency). prom-client's registry formats any object
 * with a name and get(); its own metric classes can only count what they observe themselves.
 */
export function registerCollected(registry: Registry, spec: CollectedMetricSpec): void {
  const metric = {
    name: spec.name,
    help: spec.help,
    type: spec.type,
    aggregator: 'sum',
    get: () =>
      Promise.resolve({
        name: spec.name,
        help: spec.help,
        type: spec.type,
        aggregator: 'sum',
        values: spec.collect().map((sample) => ({ ...sample, labels: { ...sample.labels } })),
      }),
    reset: () => undefined,
  };
  registry.registerMetric(metric as unknown as Metric);
}

/** A histogram's series (cumulative buckets, +Inf, sum, count) from per-bucket counts. */
export function histogramSamples(name: string, labels: Labels, histogram: LatencyHistogram): Sample[] {
  const samples: Sample[] = [];
  let cumulative = 0;
  histogram.le.forEach((bound, i) => {
    cumulative += histogram.counts[i] ?? 0;
    samples.push({
      metricName: `${name}_bucket`,
      labels: { ...labels, le: String(bound) },
      value: cumulative,
    });
  });
  cumulative += histogram.counts[histogram.le.length] ?? 0;
  samples.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: cumulative });
  samples.push({ metricName: `${name}_sum`, labels, value: histogram.sum });
  samples.push({ metricName: `${name}_count`, labels, value: cumulative });
  return samples;
}
