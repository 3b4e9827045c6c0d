// The report a simulated agent of bench/fleet-agents.mjs sends: what a host running one app (2
// healthy instances of one release behind the router) reports, with counters that grow.

const VERSION = '1.4.2';
const STARTED_AT = Date.now() - 3_600_000;

/** A whole HostReport (src/protocol/report.ts) of `host`; `state` carries its growing counters. */
export function fleetReport(host, zone, state) {
  const requests = state.requests;
  return {
    host,
    agentVersion: '0.1.0',
    revision: 0,
    at: Date.now(),
    labels: { role: 'web', zone },
    apps: [
      {
        app: 'web',
        env: 'production',
        releases: [
          {
            version: VERSION,
            install: 'installed',
            source: {
              url: `https://releases.example.com/web/web-${VERSION}.tar.gz`,
              checksum: 'sha256:9f2c4b0e8a7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b',
            },
          },
        ],
        instances: [1, 2].map((n) => ({
          id: `web.production.${VERSION}.${n}`,
          version: VERSION,
          state: 'running',
          health: 'healthy',
          pid: 40_000 + n,
          startedAt: STARTED_AT,
          restarts: 0,
          lastExit: null,
          cpuPercent: 1 + (state.seq % 7) / 10,
          rssBytes: 48_000_000 + ((state.seq * 4096) % 1_000_000),
        })),
        current: VERSION,
        traffic: [{ version: VERSION, weight: 100 }],
        route: {
          epoch: 'r-7f3a9c',
          releases: [{ version: VERSION, requests, errors: 0 }],
          outcomes: {
            releases: [{ version: VERSION, answered: requests, serverError: 0, reset: 0, timeout: 0 }],
            held: 0,
            rejected: 0,
            abandoned: 0,
          },
        },
        tasks: [],
      },
    ],
  };
}
