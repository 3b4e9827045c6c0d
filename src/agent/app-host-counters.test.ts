import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { silentLogger } from '../lib/logger.js';
import type { RouterClient } from '../router/client.js';
import type { BackendStats, RouterStats } from '../router/types.js';
import { AppHost } from './app-host.js';

const config = parseConfig(
  `apps:
  hello:
    artifact: { url: "file:///releases/hello-{version}.tar.gz" }
    run: { command: node, args: [server.mjs] }
    instances: 2
    listen: "127.0.0.1:18080"
`,
  { configPath: null },
);

function backend(id: string, release: string, requests: number, errors5xx = 0, errors = 0): BackendStats {
  return {
    id,
    release,
    inFlight: 0,
    requests,
    responses: { '1xx': 0, '2xx': requests - errors5xx, '3xx': 0, '4xx': 0, '5xx': errors5xx },
    errors,
    ejectedUntil: null,
  };
}

/**
 * An AppHost whose router answers `stats` from a variable: the window arithmetic over the router's
 * cumulative counters, at a fake clock (the real router's counters are covered end to end).
 */
function hostWithStats() {
  let clock = 1_000;
  const router = {
    stats: { epoch: 'e1', pid: 1, routes: {} } as RouterStats,
    failure: null as string | null,
  };
  const setBackends = (backends: BackendStats[], epoch = router.stats.epoch) => {
    router.stats = {
      pid: 1,
      ...(epoch !== undefined ? { epoch } : {}),
      routes: {
        'hello.production': {
          listen: { host: '127.0.0.1', port: 18080 },
          backends,
          held: 0,
          connections: 0,
          refusedConnections: { maxConnections: 0, maxConnectionsPerClient: 0 },
        },
      },
    };
  };
  const app = config.apps.hello!;
  const host = new AppHost({
    app,
    env: 'production',
    settings: app.environments.production!,
    dir: '/nonexistent/apps/hello/production',
    ferryHome: '/nonexistent',
    records: {} as never,
    supervisor: {} as never,
    router: {
      stats: () =>
        router.failure ? Promise.reject(new Error(router.failure)) : Promise.resolve(router.stats),
    } as unknown as RouterClient,
    holdTimeoutMs: 1_000,
    logger: silentLogger(),
    now: () => clock,
  });
  const failStats = (message: string) => (router.failure = message);
  return { host, setBackends, failStats, tick: (ms: number) => (clock += ms) };
}

describe('AppHost live counters: the canary analysis window, per release', () => {
  it('counts requests and errors per release since the window opened, summed over instances', async () => {
    const { host, setBackends, tick } = hostWithStats();
    setBackends([backend('a', '1.0.0', 900, 1), backend('b', '1.0.0', 100), backend('c', '1.1.0', 40, 2, 1)]);
    await host.openWindow();
    tick(5_000);
    setBackends([
      backend('a', '1.0.0', 1_000, 1),
      backend('b', '1.0.0', 150),
      backend('c', '1.1.0', 90, 4, 2),
    ]);
    const live = await host.liveCounters(['1.1.0', '1.0.0']);
    expect(live).toEqual({
      since: 1_000,
      error: null,
      releases: [
        { version: '1.1.0', requests: 50, errors: 3, healthy: 0, instances: 0 },
        { version: '1.0.0', requests: 150, errors: 0, healthy: 0, instances: 0 },
      ],
    });
    // The analysis judges the same window that status shows.
    expect(await host.trafficWindow('1.1.0')).toEqual({ requests: 50, errors: 3 });
  });

  it('a release the router does not know yet counts 0; before any window there is no start', async () => {
    const { host, setBackends } = hostWithStats();
    setBackends([backend('a', '1.0.0', 10)]);
    const live = await host.liveCounters(['2.0.0']);
    expect(live.releases[0]).toMatchObject({ version: '2.0.0', requests: 0, errors: 0 });
  });

  it("reopens the window when the router's counters restart (a new epoch), from the new keeper's counts", async () => {
    const { host, setBackends, tick } = hostWithStats();
    setBackends([backend('c', '1.1.0', 500, 5)]);
    await host.openWindow();
    tick(2_000);
    setBackends([backend('c', '1.1.0', 12, 1)], 'e2');
    const live = await host.liveCounters(['1.1.0']);
    expect(live.since).toBe(3_000);
    expect(live.releases[0]).toMatchObject({ requests: 12, errors: 1 });
    tick(1_000);
    setBackends([backend('c', '1.1.0', 20, 1)], 'e2');
    expect(await host.trafficWindow('1.1.0')).toEqual({ requests: 20, errors: 1 });
    expect((await host.liveCounters(['1.1.0'])).since).toBe(3_000);
  });

  it('a router that cannot be read leaves the counts null and says why', async () => {
    const { host, failStats } = hostWithStats();
    failStats('connect ECONNREFUSED router.sock');
    expect(await host.liveCounters(['1.1.0'])).toEqual({
      since: null,
      error: "the router's counters could not be read: connect ECONNREFUSED router.sock",
      releases: [{ version: '1.1.0', requests: null, errors: null, healthy: 0, instances: 0 }],
    });
  });
});
