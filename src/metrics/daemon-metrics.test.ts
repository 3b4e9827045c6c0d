import { describe, expect, it } from 'vitest';
import { createDeployment } from '../engine/create.js';
import type { DeploymentState } from '../engine/types.js';
import { EventPublisher } from '../events/publisher.js';
import { silentLogger } from '../lib/logger.js';
import type { RouterStats } from '../router/types.js';
import { toDeployment } from '../runtime/deployment-view.js';
import { parseExposition } from '../../test/support/prometheus.js';
import { DaemonMetrics } from './daemon-metrics.js';

function setup(
  stats: () => Promise<RouterStats> = () => Promise.resolve({ pid: 1, epoch: 'e', routes: {} }),
) {
  const events = new EventPublisher({ now: () => 0 });
  const metrics = new DaemonMetrics({
    router: { stats, onStats: () => () => undefined },
    events,
    logger: silentLogger(),
    instances: () => [],
  });
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
    const installed = {
      version: '1',
      dir: '/x',
      checksum: 'sha256:0',
      bytes: 100,
      reused: false,
      timings: { fetchMs: 0, totalMs: 0 },
    };
    metrics.artifactInstalled('hello', 'production', { ...installed, readFrom: 'source' }, true);
    metrics.artifactInstalled('hello', 'staging', { ...installed, readFrom: 'cache' }, true);
    metrics.artifactInstalled('hello', 'staging', { ...installed, readFrom: 'source' }, false);
    metrics.artifactInstalled(
      'hello',
      'staging',
      { ...installed, reused: true, readFrom: 'installed' },
      true,
    );
    const scraped = await scrape();
    expect(scraped.value('ferry_artifact_fetched_bytes_total', { env: 'production', source: 'origin' })).toBe(
      100,
    );
    expect(scraped.value('ferry_artifact_fetched_bytes_total', { env: 'staging', source: 'cache' })).toBe(
      100,
    );
    expect(scraped.value('ferry_artifact_fetched_bytes_total', { env: 'staging', source: 'origin' })).toBe(
      100,
    );
    expect(scraped.value('ferry_artifact_cache_misses_total', { env: 'production' })).toBe(1);
    expect(scraped.value('ferry_artifact_cache_hits_total', { env: 'staging' })).toBe(1);
    expect(scraped.sum('ferry_artifact_cache_misses_total', { env: 'staging' })).toBe(0);
  });

  it('says the router is down when it cannot be read, and serves the rest', async () => {
    const { scrape } = setup(() => Promise.reject(new Error('no router')));
    const scraped = await scrape();
    expect(scraped.value('ferry_router_up')).toBe(0);
    expect(scraped.types.get('ferry_deployments_total')).toBe('counter');
  });
});
