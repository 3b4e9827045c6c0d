import { describe, expect, it } from 'vitest';
import { emptyLatency, recordLatency } from '../router/latency.js';
import type { BackendStats, RouterStats } from '../router/types.js';
import { RouterTotals } from './router-totals.js';

function backend(
  id: string,
  release: string,
  ok: number,
  fiveXx = 0,
  errors = 0,
  inFlight = 0,
): BackendStats {
  const latency = emptyLatency();
  for (let n = 0; n < ok + fiveXx; n++) recordLatency(latency, 0.02);
  return {
    id,
    release,
    inFlight,
    requests: ok + fiveXx + errors,
    responses: { '1xx': 0, '2xx': ok, '3xx': 0, '4xx': 0, '5xx': fiveXx },
    errors,
    ejectedUntil: null,
    latency,
  };
}

function stats(epoch: string, backends: BackendStats[], held = 0): RouterStats {
  return {
    pid: 1,
    epoch,
    routes: {
      'hello.production': {
        listen: { host: '127.0.0.1', port: 8080 },
        backends,
        held,
        connections: 3,
        refusedConnections: { maxConnections: 0, maxConnectionsPerClient: 0 },
      },
    },
  };
}

const release = (totals: RouterTotals, version: string) =>
  totals.releasesSeen().find((r) => r.release === version)!;

describe('RouterTotals', () => {
  it('sums the instances of a release and adds only what grew between readings', () => {
    const totals = new RouterTotals();
    totals.observe(stats('e1', [backend('a', '1.0.0', 10, 1, 0, 2), backend('b', '1.0.0', 5)]), 0);
    totals.observe(stats('e1', [backend('a', '1.0.0', 12, 1, 1), backend('b', '1.0.0', 9)], 4), 0);
    const r = release(totals, '1.0.0');
    expect(r).toMatchObject({ app: 'hello', env: 'production', upstreamErrors: 1, inFlight: 0 });
    expect(r.responses).toMatchObject({ '2xx': 21, '5xx': 1 });
    expect(r.latency!.counts.reduce((a, b) => a + b)).toBe(22);
    expect(r.latency!.sum).toBeCloseTo(0.44);
    expect(totals.routesSeen()).toEqual([{ app: 'hello', env: 'production', held: 4, connections: 3 }]);
  });

  it('never goes backwards: a backend the router forgot keeps its counts, a new epoch adds from zero', () => {
    const totals = new RouterTotals();
    totals.observe(stats('e1', [backend('a', '1.0.0', 10), backend('n', '1.1.0', 3)]), 0);
    // 1.0.0 retired and drained: the router forgot its backend.
    totals.observe(stats('e1', [backend('n', '1.1.0', 8)]), 0);
    expect(release(totals, '1.0.0').responses['2xx']).toBe(10);
    expect(release(totals, '1.1.0').responses['2xx']).toBe(8);
    // A fresh keeper (new epoch) counts from zero again: 2 more served.
    totals.observe(stats('e2', [backend('n', '1.1.0', 2)]), 0);
    expect(release(totals, '1.1.0').responses['2xx']).toBe(10);
    expect(release(totals, '1.1.0').latency!.counts.reduce((a, b) => a + b)).toBe(10);
  });

  it('reads a router from before latency was measured without a histogram', () => {
    const totals = new RouterTotals();
    const { latency: _none, ...old } = backend('a', '1.0.0', 4);
    totals.observe(stats('e1', [old]), 0);
    expect(release(totals, '1.0.0')).toMatchObject({ latency: null, responses: { '2xx': 4 } });
  });

  it('ignores a route that is not named app.env, and app names like constructor are plain names', () => {
    const totals = new RouterTotals();
    const odd = stats('e1', [backend('a', 'constructor', 1)]);
    odd.routes = {
      nodot: odd.routes['hello.production']!,
      'constructor.production': odd.routes['hello.production']!,
    };
    totals.observe(odd, 0);
    expect(totals.releasesSeen().map((r) => `${r.app}/${r.env}/${r.release}`)).toEqual([
      'constructor/production/constructor',
    ]);
  });

  it('forgets a release an hour after its last instance left the router', () => {
    const totals = new RouterTotals();
    totals.observe(stats('e1', [backend('a', '1.0.0', 10), backend('n', '1.1.0', 1)]), 0);
    totals.observe(stats('e1', [backend('n', '1.1.0', 2)]), 60 * 60_000);
    expect(totals.releasesSeen().map((r) => r.release)).toEqual(['1.0.0', '1.1.0']);
    totals.observe(stats('e1', [backend('n', '1.1.0', 3)]), 60 * 60_000 + 1);
    expect(totals.releasesSeen().map((r) => r.release)).toEqual(['1.1.0']);
  });
});
