import { describe, expect, it } from 'vitest';
import { addLatency, emptyLatency, recordLatency } from './latency.js';
import { LATENCY_BUCKETS_SECONDS } from './types.js';

describe('latency histograms', () => {
  it('counts a duration into the first bucket whose bound it does not exceed, beyond the last into +Inf', () => {
    const h = emptyLatency();
    for (const seconds of [0, 0.005, 0.0051, 1, 60, 61]) recordLatency(h, seconds);
    const at = (bound: number) => h.counts[LATENCY_BUCKETS_SECONDS.indexOf(bound)];
    expect(at(0.005)).toBe(2);
    expect(at(0.01)).toBe(1);
    expect(at(1)).toBe(1);
    expect(at(60)).toBe(1);
    expect(h.counts[LATENCY_BUCKETS_SECONDS.length]).toBe(1);
    expect(h.sum).toBeCloseTo(122.0101);
  });

  it('adds histograms of the same buckets; of different buckets keeps the later one', () => {
    const a = emptyLatency();
    const b = emptyLatency();
    recordLatency(a, 0.1);
    recordLatency(b, 0.1);
    expect(addLatency(a, b)!.counts.reduce((x, y) => x + y)).toBe(2);
    const other = { le: [1], counts: [3, 0], sum: 1 };
    expect(addLatency(a, other)).toEqual(other);
    expect(addLatency(undefined, undefined)).toBeUndefined();
  });
});
