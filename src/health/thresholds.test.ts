import { describe, expect, it } from 'vitest';
import { initialHealth, nextHealth } from './thresholds.js';
import type { HealthStatus } from './types.js';

const spec = { healthyThreshold: 2, unhealthyThreshold: 3, startPeriodMs: 1_000 };
type Probe = [ok: boolean, at: number];

/** The status after feeding the probe results, in order, to an instance started at 0. */
const statusAfter = (results: Probe[], s = spec): HealthStatus =>
  results.reduce((state, [ok, at]) => nextHealth(state, { ok, at }, s), initialHealth(0)).status;

describe('nextHealth', () => {
  it.each<[string, Probe[], HealthStatus]>([
    ['nothing probed yet: starting', [], 'starting'],
    ['one pass is not enough', [[true, 0]], 'starting'],
    [
      'two consecutive passes make it healthy',
      [
        [true, 0],
        [true, 100],
      ],
      'healthy',
    ],
    [
      'a failure between passes breaks the run',
      [
        [true, 0],
        [false, 100],
        [true, 200],
      ],
      'starting',
    ],
    [
      'failures inside the start period do not count',
      [
        [false, 0],
        [false, 100],
        [false, 200],
        [false, 999],
      ],
      'starting',
    ],
    [
      'after the start period, three failures make it unhealthy',
      [
        [false, 1_000],
        [false, 1_100],
        [false, 1_200],
      ],
      'unhealthy',
    ],
    [
      'two failures after the start period are not enough',
      [
        [false, 900],
        [false, 1_000],
        [false, 1_100],
      ],
      'starting',
    ],
    [
      'a pass resets the failure count',
      [
        [true, 0],
        [true, 1],
        [false, 1_100],
        [false, 1_200],
        [true, 1_300],
        [false, 1_400],
        [false, 1_500],
      ],
      'healthy',
    ],
    [
      'healthy to unhealthy after three failures',
      [
        [true, 0],
        [true, 1],
        [false, 2_000],
        [false, 2_100],
        [false, 2_200],
      ],
      'unhealthy',
    ],
    [
      'once healthy, the start period no longer excuses failures',
      [
        [true, 0],
        [true, 1],
        [false, 2],
        [false, 3],
        [false, 4],
      ],
      'unhealthy',
    ],
    [
      'unhealthy stays unhealthy after one pass',
      [
        [false, 1_000],
        [false, 1_100],
        [false, 1_200],
        [true, 1_300],
      ],
      'unhealthy',
    ],
    [
      'unhealthy recovers after two passes',
      [
        [false, 1_000],
        [false, 1_100],
        [false, 1_200],
        [true, 1_300],
        [true, 1_400],
      ],
      'healthy',
    ],
  ])('%s', (_name, results, expected) => {
    expect(statusAfter(results)).toBe(expected);
  });

  it('with thresholds of 1, flips on every result after the start period', () => {
    const eager = { healthyThreshold: 1, unhealthyThreshold: 1, startPeriodMs: 0 };
    expect(statusAfter([[true, 0]], eager)).toBe('healthy');
    expect(
      statusAfter(
        [
          [true, 0],
          [false, 1],
        ],
        eager,
      ),
    ).toBe('unhealthy');
    expect(
      statusAfter(
        [
          [true, 0],
          [false, 1],
          [true, 2],
        ],
        eager,
      ),
    ).toBe('healthy');
  });

  it('is pure: the given state is not changed', () => {
    const state = Object.freeze(initialHealth(0));
    const next = nextHealth(state, { ok: true, at: 5 }, spec);
    expect(state).toEqual({ status: 'starting', startedAt: 0, successes: 0, failures: 0 });
    expect(next).toEqual({ status: 'starting', startedAt: 0, successes: 1, failures: 0 });
  });
});
