import { describe, expect, it } from 'vitest';
import { createDeployment } from '../engine/create.js';
import type { DeploymentState } from '../engine/types.js';
import { EventPublisher } from '../events/publisher.js';
import { silentLogger } from '../lib/logger.js';
import type { HostReport } from '../protocol/report.js';
import { toDeployment } from '../runtime/deployment-view.js';
import { parseExposition } from '../../test/support/prometheus.js';
import { DaemonMetrics, type ReportedHost } from './daemon-metrics.js';

function setup(hosts: () => Promise<readonly ReportedHost[]> = () => Promise.resolve([])) {
  const events = new EventPublisher({ now: () => 0 });
  const metrics = new DaemonMetrics({ events, logger: silentLogger(), hosts });
  const publish = (state: DeploymentState) =>
    events.publish({
      kind: 'deployment',
      app: state.app,
      env: state.env,
      deployment: toDeployment(state),
    });
  const scrape = async () => parseExposition((await metrics.exposition()).text);
  return { metrics, publish, scrape };
}

const base = createDeployment(
  {
    id: 'd-1',
    app: 'hello',
    env: 'production',
    kind: 'deploy',
    from: '1.0.0',
    to: '1.1.0',
    strategy: { kind: 'blue-green', healthDeadlineMs: 1000 },
    instances: 1,
    afterSwitchHook: false,
  },
  1_000,
);

describe('DaemonMetrics', () => {
  it('times each phase from its start to the next one, canary steps included in shifting, and counts the outcome', async () => {
    const { publish, scrape } = setup();
    publish({ ...base, status: 'running', phase: 'installing', phaseSince: 1_000 });
    publish({ ...base, status: 'running', phase: 'starting', phaseSince: 3_000 });
    publish({ ...base, status: 'running', phase: 'shifting', phaseSince: 4_000, step: 0 });
    publish({ ...base, status: 'running', phase: 'shifting', phaseSince: 9_000, step: 1 });
    publish({ ...base, status: 'running', phase: 'retiring', phaseSince: 14_000 });
    publish({ ...base, status: 'succeeded', phase: 'done', phaseSince: 15_000, updatedAt: 15_000 });
    const scraped = await scrape();
    const scope = { app: 'hello', env: 'production' };
    const phase = (name: string) => ({
      count: scraped.value('ferry_deployment_phase_duration_seconds_count', { ...scope, phase: name }),
      sum: scraped.value('ferry_deployment_phase_duration_seconds_sum', { ...scope, phase: name }),
    });
    expect(phase('installing')).toEqual({ count: 1, sum: 2 });
    expect(phase('starting')).toEqual({ count: 1, sum: 1 });
    expect(phase('shifting')).toEqual({ count: 1, sum: 10 });
    expect(phase('retiring')).toEqual({ count: 1, sum: 1 });
    expect(scraped.value('ferry_deployments_total', { ...scope, kind: 'deploy', outcome: 'succeeded' })).toBe(
      1,
    );
    expect(scraped.value('ferry_deployment_duration_seconds_sum', { ...scope, outcome: 'succeeded' })).toBe(
      14,
    );
  });

  it('counts artifact bytes by source, cache hits and misses; a release already installed reads nothing', async () => {
    const { metrics, scrape } = setup();
    const install = { app: 'hello', bytes: 100, cacheAsked: true } as const;
    metrics.artifactInstalled({ ...install, env: 'production', readFrom: 'source' });
    metrics.artifactInstalled({ ...install, env: 'staging', readFrom: 'cache' });
    metrics.artifactInstalled({ ...install, env: 'staging', readFrom: 'source', cacheAsked: false });
    metrics.artifactInstalled({ ...install, env: 'staging', readFrom: 'installed' });
    // An enrolled host's install: under its name.
    metrics.artifactInstalled({ ...install, env: 'staging', readFrom: 'source' }, 'web-1');
    const scraped = await scrape();
    expect(scraped.value('ferry_artifact_fetched_bytes_total', { env: 'production', source: 'origin' })).toBe(
      100,
    );
    expect(scraped.value('ferry_artifact_fetched_bytes_total', { env: 'staging', source: 'cache' })).toBe(
      100,
    );
    // The server's own host's 100, and web-1's.
    expect(scraped.sum('ferry_artifact_fetched_bytes_total', { env: 'staging', source: 'origin' })).toBe(200);
    expect(
      scraped.value('ferry_artifact_fetched_bytes_total', {
        host: 'web-1',
        env: 'staging',
        source: 'origin',
      }),
    ).toBe(100);
    expect(scraped.value('ferry_artifact_cache_misses_total', { env: 'production' })).toBe(1);
    expect(scraped.value('ferry_artifact_cache_hits_total', { env: 'staging' })).toBe(1);
    expect(scraped.sum('ferry_artifact_cache_misses_total', { env: 'staging' })).toBe(1);
    expect(scraped.value('ferry_artifact_cache_misses_total', { host: 'web-1', env: 'staging' })).toBe(1);
  });

  it('says the router is down when its host reports it so, and serves the rest', async () => {
    const down: HostReport = {
      ...report([]),
      router: { state: 'down', pid: null, restarts: 0, error: 'gone' },
    };
    const { scrape } = setup(() => Promise.resolve([{ host: null, report: down }]));
    const scraped = await scrape();
    expect(scraped.value('ferry_router_up')).toBe(0);
    expect(scraped.types.get('ferry_deployments_total')).toBe('counter');
  });

  it("shows every host's router totals and instances from its report, enrolled hosts by name", async () => {
    const app = (version: string, requests: number): HostReport['apps'][number] => ({
      app: 'hello',
      env: 'production',
      releases: [],
      instances: [
        {
          id: `hello-${version}-a`,
          version,
          state: 'running',
          health: 'healthy',
          pid: 10,
          startedAt: 0,
          restarts: 2,
          lastExit: null,
          cpuPercent: 1,
          rssBytes: 4096,
          cpuSeconds: 1.5,
        },
      ],
      current: version,
      traffic: [{ version, weight: 100 }],
      route: null,
      tasks: [],
      totals: {
        releases: [
          {
            version,
            responses: { '1xx': 0, '2xx': requests, '3xx': 0, '4xx': 0, '5xx': 1 },
            upstreamErrors: 0,
            latency: { le: [0.1], counts: [requests, 1], sum: 2 },
            inFlight: 1,
          },
        ],
        held: 0,
        connections: 3,
      },
    });
    const { scrape } = setup(() =>
      Promise.resolve([
        { host: null, report: report([app('1.0.0', 7)]) },
        { host: 'web-1', report: report([app('1.1.0', 5)]) },
      ]),
    );
    const scraped = await scrape();
    const here = { app: 'hello', env: 'production', release: '1.0.0' };
    const there = { host: 'web-1', app: 'hello', env: 'production', release: '1.1.0' };
    expect(scraped.value('ferry_router_requests_total', { ...here, code: '2xx' })).toBe(7);
    expect(scraped.value('ferry_router_requests_total', { ...there, code: '2xx' })).toBe(5);
    expect(scraped.value('ferry_router_request_duration_seconds_count', there)).toBe(6);
    expect(
      scraped.value('ferry_router_connections', { host: 'web-1', app: 'hello', env: 'production' }),
    ).toBe(3);
    expect(scraped.value('ferry_instance_restarts_total', { ...there, instance: 'hello-1.1.0-a' })).toBe(2);
    expect(scraped.value('ferry_instance_cpu_seconds_total', { ...here, instance: 'hello-1.0.0-a' })).toBe(
      1.5,
    );
    expect(
      scraped.value('ferry_instances', {
        host: 'web-1',
        app: 'hello',
        env: 'production',
        release: '1.1.0',
        health: 'healthy',
      }),
    ).toBe(1);
    expect(scraped.value('ferry_router_up', { host: 'web-1' })).toBe(1);
  });
});

function report(apps: HostReport['apps']): HostReport {
  return { host: 'h', agentVersion: 'test', revision: 1, at: 0, labels: {}, apps };
}
