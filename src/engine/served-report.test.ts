import { describe, expect, it } from 'vitest';
import {
  endServedReport,
  openServedReport,
  recordReading,
  type OutcomeCounts,
  type OutcomeReading,
  type ReleaseOutcomeCounts,
  type StepKey,
} from './served-report.js';

const installing: StepKey = { phase: 'installing', step: null, weight: 0 };
const canary10: StepKey = { phase: 'shifting', step: 0, weight: 10 };
const canary50: StepKey = { phase: 'shifting', step: 1, weight: 50 };
const retiring: StepKey = { phase: 'retiring', step: null, weight: 100 };

function release(version: string, answered: number, more: Partial<ReleaseOutcomeCounts> = {}) {
  return { version, answered, serverError: 0, reset: 0, timeout: 0, ...more };
}

function reading(
  releases: ReleaseOutcomeCounts[],
  route: Partial<Omit<OutcomeCounts, 'releases'>> = {},
  epoch = 'e1',
): OutcomeReading {
  return { epoch, counts: { releases, held: 0, rejected: 0, abandoned: 0, ...route } };
}

describe('the served-request report of a deployment', () => {
  it('counts from its first reading, per release and per step, and ends complete', () => {
    let record = openServedReport(1000, installing);
    // Before the deployment: 500 requests that belong to earlier ones.
    record = recordReading(record, reading([release('1.0.0', 500)]), 1000, installing);
    record = recordReading(record, reading([release('1.0.0', 700)]), 2000, canary10);
    record = recordReading(record, reading([release('1.0.0', 790), release('1.1.0', 10)]), 3000, canary50);
    record = recordReading(record, reading([release('1.0.0', 840), release('1.1.0', 60)]), 4000, retiring);
    record = recordReading(record, reading([release('1.0.0', 840), release('1.1.0', 160)]), 5000, retiring);
    const { report } = endServedReport(record, 5100);
    expect(report).toMatchObject({ since: 1000, until: 5100, final: true, served: 500, failed: 0 });
    expect(report.releases.map((r) => [r.version, r.served])).toEqual([
      ['1.0.0', 340],
      ['1.1.0', 160],
    ]);
    expect(report.steps.map((s) => [s.phase, s.step, s.weight, s.served, s.since, s.until])).toEqual([
      ['installing', null, 0, 200, 1000, 2000],
      ['shifting', 0, 10, 100, 2000, 3000],
      ['shifting', 1, 50, 100, 3000, 4000],
      ['retiring', null, 100, 100, 4000, 5100],
    ]);
    // Complete: later readings change nothing.
    const after = recordReading(
      endServedReport(record, 5100),
      reading([release('1.1.0', 999)]),
      6000,
      retiring,
    );
    expect(after.report.served).toBe(500);
  });

  it('counts failures by kind: 5xx of instances, resets, timeouts, held 503s; a 400 is served, a client gone is neither', () => {
    let record = openServedReport(0, canary10);
    record = recordReading(record, reading([]), 0, canary10);
    record = recordReading(
      record,
      reading(
        [release('1.0.0', 90, { reset: 1 }), release('2.0.1-errors', 1, { serverError: 9, timeout: 2 })],
        { held: 3, rejected: 4, abandoned: 5 },
      ),
      100,
      canary10,
    );
    const { report } = record;
    expect(report).toMatchObject({
      served: 110,
      failed: 15,
      failures: { serverError: 9, reset: 1, timeout: 2, held: 3 },
      rejected: 4,
      abandoned: 5,
    });
    expect(report.releases).toEqual([
      {
        version: '1.0.0',
        served: 91,
        failed: 1,
        failures: { serverError: 0, reset: 1, timeout: 0, held: 0 },
      },
      {
        version: '2.0.1-errors',
        served: 12,
        failed: 11,
        failures: { serverError: 9, reset: 0, timeout: 2, held: 0 },
      },
    ]);
    expect(report.steps[0]).toMatchObject({ served: 110, failed: 15 });
  });

  it('a router that starts its counters afresh: what it counts is added, and the restart is noted', () => {
    let record = openServedReport(0, canary10);
    record = recordReading(record, reading([release('1.0.0', 1000)]), 0, canary10);
    record = recordReading(record, reading([release('1.0.0', 1100)]), 100, canary10);
    record = recordReading(record, reading([release('1.0.0', 30)], {}, 'e2'), 200, canary10);
    record = recordReading(record, reading([release('1.0.0', 50)], {}, 'e2'), 300, canary10);
    expect(record.report).toMatchObject({ served: 150, routerRestarts: 1 });
  });

  it('a sum that dips for a moment (a draining worker) is not counted twice when it comes back', () => {
    let record = openServedReport(0, canary10);
    record = recordReading(record, reading([release('1.0.0', 100)]), 0, canary10);
    record = recordReading(record, reading([release('1.0.0', 80)]), 100, canary10);
    record = recordReading(record, reading([release('1.0.0', 120)]), 200, canary10);
    expect(record.report.served).toBe(20);
  });

  it('a failed reading keeps the error and the counts; the next one counts what it missed', () => {
    let record = openServedReport(0, canary10);
    record = recordReading(record, reading([release('1.0.0', 0)]), 0, canary10);
    record = recordReading(record, 'the router did not answer', 100, canary50);
    expect(record.report).toMatchObject({ served: 0, error: 'the router did not answer' });
    record = recordReading(record, reading([release('1.0.0', 40)]), 200, canary50);
    expect(record.report).toMatchObject({ served: 40, error: null });
    expect(record.report.steps.map((s) => [s.weight, s.served])).toEqual([
      [10, 0],
      [50, 40],
    ]);
  });

  it('without a baseline (the router could not be read at the start), the first reading is the baseline', () => {
    let record = openServedReport(0, installing);
    record = recordReading(record, 'no router', 0, installing);
    record = recordReading(record, reading([release('1.0.0', 70)]), 100, installing);
    expect(record.report.served).toBe(0);
    expect(record.cursor).toEqual(reading([release('1.0.0', 70)]));
  });
});
