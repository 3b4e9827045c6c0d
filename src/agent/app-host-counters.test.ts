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
 * An AppHost whose router answers `stats` from a variable (the real router's counters are covered
 * end to end).
 */
function hostWithStats() {
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
    now: () => 1_000,
  });
  const failStats = (message: string) => (router.failure = message);
  return { host, setBackends, failStats };
}

describe("AppHost's route counters: what a host's report carries", () => {
  it('sums requests and errors (5xx and connection errors) per release over its instances, with the epoch', async () => {
    const { host, setBackends } = hostWithStats();
    setBackends([backend('a', '1.0.0', 900, 1), backend('b', '1.0.0', 100), backend('c', '1.1.0', 40, 2, 1)]);
    const counters = await host.routeCounters();
    expect(counters.epoch).toBe('e1');
    expect(counters.releases).toEqual([
      { version: '1.0.0', requests: 1_000, errors: 1 },
      { version: '1.1.0', requests: 40, errors: 3 },
    ]);
  });

  it('a router that cannot be read fails the reading (the report then says the route is unread)', async () => {
    const { host, failStats } = hostWithStats();
    failStats('connect ECONNREFUSED router.sock');
    await expect(host.routeCounters()).rejects.toThrow('ECONNREFUSED');
  });
});
