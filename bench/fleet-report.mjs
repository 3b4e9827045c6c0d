// The report a simulated agent of bench/fleet-agents.mjs sends: what a host running one app (2
// healthy instances of one release behind the router) reports, with counters that grow: its spec
// digest, its router's totals for the metrics (with the latency histogram), its router's process
// tree, and an empty event journal, as a real agent's report has them.

const VERSION = '1.4.2';
const STARTED_AT = Date.now() - 3_600_000;
/** The router's latency buckets (src/router/types.ts), seconds. */
const LE = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

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
        listen: '0.0.0.0:8080',
        spec: '3f9a2c7d1e0b4a68',
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
          cpuSeconds: 36 + state.seq / 100,
          port: 20_000 + n,
          lastFailure: null,
          exit: null,
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
        totals: {
          releases: [
            {
              version: VERSION,
              responses: { '1xx': 0, '2xx': requests, '3xx': 0, '4xx': Math.floor(requests / 50), '5xx': 0 },
              upstreamErrors: 0,
              latency: {
                le: LE,
                counts: LE.map((_, i) => (i < 4 ? Math.floor(requests / 4) : 0)).concat([0]),
                sum: requests * 0.004,
              },
              inFlight: state.seq % 3,
            },
          ],
          held: 0,
          connections: 12,
        },
      },
    ],
    router: {
      state: 'running',
      pid: 30_000,
      restarts: 0,
      error: null,
      version: '0.1.0',
      startedAt: STARTED_AT,
      workers: [{ pid: 30_001, state: 'up', startedAt: STARTED_AT, restarts: 0, crashLoop: false }],
      spare: { pid: 30_002, state: 'ready' },
    },
    events: { journal: `j-${host.slice(0, 8)}`, dropped: 0, items: [] },
  };
}
