import { describe, expect, it } from 'vitest';
import { emptyLatency, recordLatency } from '../latency.js';
import { addDeparted, mergeCounters, pruneDeparted, type RouteCounters } from './stats-merge.js';
import type { BackendStats, RequestOutcomes, RouteSpec } from '../types.js';

const spec: RouteSpec = {
  name: 'app',
  listen: { host: '127.0.0.1', port: 8080 },
  backends: [
    { id: 'a', release: 'v1', host: '127.0.0.1', port: 1, weight: 1, healthy: true },
    { id: 'b', release: 'v2', host: '127.0.0.1', port: 2, weight: 1, healthy: true },
  ],
};

function backend(id: string, requests: number, fiveXx = 0, inFlight = 0): BackendStats {
  return {
    id,
    release: id === 'a' ? 'v1' : 'v2',
    inFlight,
    requests,
    responses: { '1xx': 0, '2xx': requests - fiveXx, '3xx': 0, '4xx': 0, '5xx': fiveXx },
    errors: 0,
    ejectedUntil: null,
  };
}

function counters(...backends: BackendStats[]): RouteCounters {
  return {
    app: {
      listen: spec.listen,
      backends,
      held: 1,
      connections: 2,
      refusedConnections: { maxConnections: 1, maxConnectionsPerClient: 0 },
    },
  };
}

describe('router counters across workers', () => {
  it('sums the workers, and keeps a dead worker last counts so that totals never go backwards', () => {
    const w1 = counters(backend('a', 10, 1, 2), backend('b', 5));
    const w2 = counters(backend('a', 7, 0, 1));
    const before = mergeCounters([spec], [w1, w2], {});
    expect(before.app!.backends.find((b) => b.id === 'a')).toMatchObject({ requests: 17, inFlight: 3 });
    expect(before.app).toMatchObject({
      held: 2,
      connections: 4,
      refusedConnections: { maxConnections: 2, maxConnectionsPerClient: 0 },
    });
    // w1 dies: its counts stay, its requests in flight do not.
    const departed = addDeparted({}, w1);
    const after = mergeCounters([spec], [w2], departed);
    const a = after.app!.backends.find((b) => b.id === 'a')!;
    expect(a).toMatchObject({ requests: 17, inFlight: 1 });
    expect(a.responses['5xx']).toBe(1);
    expect(after.app!.backends.find((b) => b.id === 'b')).toMatchObject({ requests: 5, inFlight: 0 });
    expect(after.app).toMatchObject({
      connections: 2,
      refusedConnections: { maxConnections: 2, maxConnectionsPerClient: 0 },
    });
  });

  it('lists every backend of the table, and forgets departed counts of backends that left it', () => {
    const departed = addDeparted({}, counters(backend('a', 3), backend('gone', 9)));
    const merged = mergeCounters([spec], [], departed);
    expect(merged.app!.backends.map((b) => b.id).sort()).toEqual(['a', 'b']);
    expect(pruneDeparted(departed, [spec]).app!.backends.map((b) => b.id)).toEqual(['a']);
    expect(mergeCounters([], [], departed)).toEqual({});
  });

  it("sums latency histograms across workers and keeps a dead worker's, like the other counters", () => {
    const timed = (id: string, ...seconds: number[]): BackendStats => {
      const latency = emptyLatency();
      for (const s of seconds) recordLatency(latency, s);
      return { ...backend(id, seconds.length), latency };
    };
    const w1 = counters(timed('a', 0.001, 0.2));
    const w2 = counters(timed('a', 0.2, 70));
    const departed = addDeparted({}, w1);
    const a = mergeCounters([spec], [w2], departed).app!.backends.find((b) => b.id === 'a')!;
    const { le, counts, sum } = a.latency!;
    expect(counts[0]).toBe(1);
    expect(counts[le.indexOf(0.25)]).toBe(2);
    expect(counts[le.length]).toBe(1);
    expect(counts.reduce((x, y) => x + y)).toBe(4);
    expect(sum).toBeCloseTo(70.401);
    // A worker of a router from before latency was counted adds nothing and removes nothing.
    const old = mergeCounters([spec], [w2, counters(backend('a', 5))], {}).app!.backends[0]!;
    expect(old.latency!.counts.reduce((x, y) => x + y)).toBe(2);
    expect(old.requests).toBe(7);
  });

  it('sums request outcomes per release over the workers, keeps a dead worker last ones, and those of retired releases', () => {
    const outcomes = (v1: number, v2: number, held: number): RequestOutcomes => ({
      releases: [
        {
          release: 'v1',
          responses: { '1xx': 0, '2xx': v1, '3xx': 0, '4xx': 0, '5xx': 1 },
          reset: 1,
          timeout: 0,
        },
        {
          release: 'v2',
          responses: { '1xx': 0, '2xx': v2, '3xx': 0, '4xx': 0, '5xx': 0 },
          reset: 0,
          timeout: 2,
        },
      ],
      held,
      rejected: 1,
      abandoned: 0,
    });
    const w1 = { app: { ...counters(backend('a', 1)).app!, outcomes: outcomes(10, 5, 1) } };
    const w2 = { app: { ...counters(backend('a', 1)).app!, outcomes: outcomes(7, 0, 0) } };
    const sum = mergeCounters([spec], [w1, w2], {}).app!.outcomes!;
    expect(sum.releases).toEqual([
      {
        release: 'v1',
        responses: { '1xx': 0, '2xx': 17, '3xx': 0, '4xx': 0, '5xx': 2 },
        reset: 2,
        timeout: 0,
      },
      {
        release: 'v2',
        responses: { '1xx': 0, '2xx': 5, '3xx': 0, '4xx': 0, '5xx': 0 },
        reset: 0,
        timeout: 4,
      },
    ]);
    expect(sum).toMatchObject({ held: 1, rejected: 2, abandoned: 0 });
    // w1 dies; then every backend leaves the route: the outcomes stay with the route.
    const departed = addDeparted({}, w1);
    expect(mergeCounters([spec], [w2], departed).app!.outcomes).toEqual(sum);
    const empty: RouteSpec = { ...spec, backends: [] };
    const pruned = pruneDeparted(departed, [empty]);
    expect(mergeCounters([empty], [w2], pruned).app!.outcomes).toEqual(sum);
    // A router older than outcomes reports none: the sum is empty, not missing.
    expect(mergeCounters([spec], [counters(backend('a', 1))], {}).app!.outcomes).toEqual({
      releases: [],
      held: 0,
      rejected: 0,
      abandoned: 0,
    });
  });
});
