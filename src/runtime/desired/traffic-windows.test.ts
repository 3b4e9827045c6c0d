import { describe, expect, it } from 'vitest';
import type { AppReport } from '../../protocol/report.js';
import { liveCounters } from './live-counters.js';
import { TrafficWindows } from './traffic-windows.js';

function report(
  releases: Array<[version: string, requests: number, errors: number]>,
  epoch: string | null = 'e1',
): AppReport {
  return {
    app: 'hello',
    env: 'production',
    releases: [],
    instances: [],
    current: null,
    traffic: [],
    route: {
      epoch,
      releases: releases.map(([version, requests, errors]) => ({ version, requests, errors })),
      outcomes: { releases: [], held: 0, rejected: 0, abandoned: 0 },
    },
    tasks: [],
  };
}

describe('TrafficWindows: the canary analysis window from the hosts reports', () => {
  it('counts requests and errors per release since the window opened; status sees the same window', () => {
    let now = 1_000;
    const windows = new TrafficWindows(() => now);
    windows.open(
      'hello.production',
      report([
        ['1.0.0', 1_000, 1],
        ['1.1.0', 40, 3],
      ]),
    );
    now = 6_000;
    const later = report([
      ['1.0.0', 1_150, 1],
      ['1.1.0', 90, 6],
    ]);
    expect(windows.count('hello.production', later, '1.1.0')).toEqual({ requests: 50, errors: 3 });
    expect(liveCounters(later, windows, 'hello.production', ['1.1.0', '1.0.0'])).toEqual({
      since: 1_000,
      error: null,
      releases: [
        { version: '1.1.0', requests: 50, errors: 3, healthy: 0, instances: 0 },
        { version: '1.0.0', requests: 150, errors: 0, healthy: 0, instances: 0 },
      ],
    });
  });

  it('a release the router does not know yet counts 0', () => {
    const windows = new TrafficWindows(() => 0);
    windows.open('k', report([['1.0.0', 10, 0]]));
    expect(windows.count('k', report([['1.0.0', 20, 0]]), '2.0.0')).toEqual({ requests: 0, errors: 0 });
  });

  it("reopens when the router's counters restart (a new epoch), from the new keeper's counts", () => {
    let now = 1_000;
    const windows = new TrafficWindows(() => now);
    windows.open('k', report([['1.1.0', 500, 5]]));
    now = 3_000;
    expect(windows.count('k', report([['1.1.0', 12, 1]], 'e2'), '1.1.0')).toEqual({
      requests: 12,
      errors: 1,
    });
    now = 4_000;
    const next = report([['1.1.0', 20, 1]], 'e2');
    expect(windows.count('k', next, '1.1.0')).toEqual({ requests: 20, errors: 1 });
    expect(windows.openedAt('k', next)).toBe(3_000);
  });

  it('a route the host could not read leaves the counts null and says why; the window keeps its start', () => {
    const windows = new TrafficWindows(() => 500);
    const unread = { ...report([]), route: null };
    expect(liveCounters(unread, windows, 'k', ['1.1.0']).since).toBeNull();
    windows.open('k', report([['1.1.0', 1, 0]]));
    expect(liveCounters(unread, windows, 'k', ['1.1.0'])).toEqual({
      since: 500,
      error:
        "the host has not reported the router's counters (the router could not be read, or no report yet)",
      releases: [{ version: '1.1.0', requests: null, errors: null, healthy: 0, instances: 0 }],
    });
  });
});
