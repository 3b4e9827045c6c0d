import { readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusResponse } from '../../src/api/types.js';
import { createHarness, freePort, type FerryHarness } from '../support/ferry.js';
import { parseExposition, type Exposition } from '../support/prometheus.js';
import { waitFor } from '../support/wait.js';

const APP = { app: 'hello', env: 'production' };

/** `count` GETs of `path` through the router, one after another on one keep-alive connection. */
async function requests(port: number, count: number, pathname = '/'): Promise<number[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const statuses: number[] = [];
  try {
    for (let n = 0; n < count; n++) {
      statuses.push(
        await new Promise<number>((resolve, reject) => {
          http
            .get(`http://127.0.0.1:${port}${pathname}`, { agent }, (res) => {
              res.resume();
              res.on('end', () => resolve(res.statusCode ?? 0));
            })
            .on('error', reject);
        }),
      );
    }
  } finally {
    agent.destroy();
  }
  return statuses;
}

/** The count of a histogram's observations between two bucket bounds (le), per the exposition. */
function between(
  scrape: Exposition,
  name: string,
  labels: Record<string, string>,
  low: string,
  high: string,
) {
  return (
    scrape.sum(`${name}_bucket`, { ...labels, le: high }) -
    scrape.sum(`${name}_bucket`, { ...labels, le: low })
  );
}

/**
 * Prometheus metrics scraped from a real daemon running the example app, with traffic through the
 * real router: the exposition parsed, and values checked as requests are served, instances change
 * and a deployment finishes.
 */
describe('Prometheus metrics', () => {
  let ferry: FerryHarness;
  let metricsPort: number;
  let token: string;

  beforeAll(async () => {
    metricsPort = await freePort();
    ferry = await createHarness({ instances: 2, top: `metrics: { listen: "127.0.0.1:${metricsPort}" }` });
    await ferry.start();
    token = readFileSync(path.join(ferry.home, 'api-token'), 'utf8').trim();
  });

  afterAll(async () => {
    await ferry?.cleanup();
  });

  const scrape = async (): Promise<Exposition> => {
    const response = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    return parseExposition(await response.text());
  };

  /**
   * The first scrape in which `read` grew by `by` since `before`: the metrics show the host's last
   * report, which follows what was served within its report interval.
   */
  const settled = (before: Exposition, read: (s: Exposition) => number, by: number) =>
    waitFor(`${by} more counted`, async () => {
      const s = await scrape();
      return read(s) - read(before) >= by ? s : null;
    });

  it('serves /metrics on the API with the token only, and on metrics.listen to anyone', async () => {
    const api = `http://127.0.0.1:${ferry.apiPort}/metrics`;
    const refused = await fetch(api);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ error: { code: 'FERRY_E_UNAUTHORIZED' } });
    const viaApi = await fetch(api, { headers: { authorization: `Bearer ${token}` } });
    expect(viaApi.status).toBe(200);
    const parsed = parseExposition(await viaApi.text());
    expect(Object.fromEntries(parsed.types)).toMatchObject({
      ferry_router_requests_total: 'counter',
      ferry_router_upstream_errors_total: 'counter',
      ferry_router_request_duration_seconds: 'histogram',
      ferry_router_requests_in_flight: 'gauge',
      ferry_deployments_total: 'counter',
      ferry_deployment_phase_duration_seconds: 'histogram',
      ferry_instance_healthy: 'gauge',
      ferry_instance_cpu_seconds_total: 'counter',
      ferry_instance_resident_memory_bytes: 'gauge',
      ferry_artifact_fetched_bytes_total: 'counter',
      ferry_router_up: 'gauge',
    });
    expect(parsed.value('ferry_router_up')).toBe(1);
    // The initial release's deployment at start was counted.
    expect(parsed.value('ferry_deployments_total', { ...APP, kind: 'deploy', outcome: 'succeeded' })).toBe(1);
    expect((await fetch(`http://127.0.0.1:${metricsPort}/status`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { method: 'POST' })).status).toBe(405);
  });

  it('counts requests by release and status class, their latency, and those in flight, as they are served', async () => {
    const release = { ...APP, release: '1.0.0' };
    const before = await scrape();
    expect((await requests(ferry.appPort, 40)).every((s) => s === 200)).toBe(true);
    expect((await requests(ferry.appPort, 5, '/nope')).every((s) => s === 404)).toBe(true);
    // The host's agent reports its router's totals within a second (at once while it is busy).
    const after = await settled(
      before,
      (s) => s.sum('ferry_router_request_duration_seconds_count', release),
      45,
    );
    const delta = (name: string, labels: Record<string, string>) =>
      after.sum(name, labels) - before.sum(name, labels);
    expect(delta('ferry_router_requests_total', { ...release, code: '2xx' })).toBe(40);
    expect(delta('ferry_router_requests_total', { ...release, code: '4xx' })).toBe(5);
    expect(delta('ferry_router_requests_total', { ...release, code: '5xx' })).toBe(0);
    expect(delta('ferry_router_upstream_errors_total', release)).toBe(0);
    expect(delta('ferry_router_request_duration_seconds_count', release)).toBe(45);
    expect(delta('ferry_router_request_duration_seconds_sum', release)).toBeGreaterThan(0);

    // A request answered 10 s after it arrived (the router relays the headers with the body) is in
    // flight meanwhile, then ends in the (5, 10] or (10, 30] bucket.
    const slow = new Promise<number>((resolve, reject) =>
      http
        .get(`http://127.0.0.1:${ferry.appPort}/?delay=10000`, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        })
        .on('error', reject),
    );
    await waitFor(
      'the slow request in flight',
      async () => (await scrape()).sum('ferry_router_requests_in_flight', release) === 1,
    );
    expect(await slow).toBe(200);
    const done = await waitFor('nothing in flight', async () => {
      const s = await scrape();
      return s.sum('ferry_router_requests_in_flight', release) === 0 ? s : null;
    });
    const name = 'ferry_router_request_duration_seconds';
    expect(between(done, name, release, '5', '30') - between(after, name, release, '5', '30')).toBe(1);
  });

  it('shows each instance: health, restarts after a crash, CPU and memory from /proc', async () => {
    const status = await ferry.json<StatusResponse>('status');
    const instances = status.apps[0]!.instances;
    expect(instances).toHaveLength(2);
    const scraped = await scrape();
    expect(scraped.value('ferry_instances', { ...APP, release: '1.0.0', health: 'healthy' })).toBe(2);
    for (const instance of instances) {
      const labels = { ...APP, release: '1.0.0', instance: instance.id };
      expect(scraped.value('ferry_instance_healthy', labels)).toBe(1);
      expect(scraped.value('ferry_instance_restarts_total', labels)).toBe(0);
      expect(scraped.value('ferry_instance_cpu_seconds_total', labels)).toBeGreaterThan(0);
      // The kernel's own figure for the process: the same within a few MiB, once the agent's sample
      // (every 2 s) caught up with what the last requests made it use.
      const vmRss = () =>
        Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${instance.pid}/status`, 'utf8'))![1]) * 1024;
      await waitFor('the sampled memory to match the kernel', async () => {
        const rss = (await scrape()).value('ferry_instance_resident_memory_bytes', labels)!;
        return Math.abs(rss - vmRss()) < 8 * 1024 * 1024;
      });
    }

    const crashed = instances[0]!;
    process.kill(crashed.pid!, 'SIGKILL');
    const labels = { ...APP, release: '1.0.0', instance: crashed.id };
    await waitFor('the restart counted and the instance healthy again', async () => {
      const s = await scrape();
      return s.value('ferry_instance_restarts_total', labels) === 1 &&
        s.value('ferry_instance_healthy', labels) === 1
        ? s
        : null;
    });
    // The new process's CPU time, from the agent's next sample of it (every 2 s).
    await waitFor(
      "the new process's CPU time",
      async () => ((await scrape()).value('ferry_instance_cpu_seconds_total', labels) ?? 0) > 0,
    );
  });

  it('a deployment: its outcome, phase durations and artifact bytes; the new release under its own label, the old one kept', async () => {
    const before = await scrape();
    const deployed = await ferry.cli('deploy', 'hello', '1.1.0', '--wait');
    expect(deployed.code, deployed.stderr).toBe(0);
    expect((await requests(ferry.appPort, 20)).every((s) => s === 200)).toBe(true);
    const served = { ...APP, release: '1.1.0', code: '2xx' };
    const after = await settled(before, (s) => s.sum('ferry_router_requests_total', served), 20);
    const delta = (name: string, labels: Record<string, string>) =>
      after.sum(name, labels) - before.sum(name, labels);
    expect(delta('ferry_deployments_total', { ...APP, kind: 'deploy', outcome: 'succeeded' })).toBe(1);
    expect(delta('ferry_deployment_duration_seconds_count', { ...APP, outcome: 'succeeded' })).toBe(1);
    for (const phase of ['installing', 'starting', 'retiring'])
      expect(delta('ferry_deployment_phase_duration_seconds_count', { ...APP, phase }), phase).toBe(1);
    const artifact = statSync(path.join(ferry.dir, 'dist', 'hello-1.1.0.tar.gz')).size;
    expect(delta('ferry_artifact_fetched_bytes_total', { ...APP, source: 'origin' })).toBe(artifact);

    expect(after.value('ferry_router_requests_total', { ...APP, release: '1.1.0', code: '2xx' })).toBe(20);
    // The old release's instances are gone from the router; its counts are not.
    const old = { ...APP, release: '1.0.0', code: '2xx' };
    expect(after.value('ferry_router_requests_total', old)).toBe(
      before.value('ferry_router_requests_total', old),
    );
    expect(after.find('ferry_instance_healthy', { release: '1.0.0' })).toEqual([]);
    expect(after.value('ferry_instances', { ...APP, release: '1.1.0', health: 'healthy' })).toBe(2);
  });
});

/** A static file server for a harness's dist/ (known once the harness exists). */
async function serveDist(root: () => string): Promise<{ port: number; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    try {
      const body = readFileSync(path.join(root(), path.basename(req.url ?? '/')));
      res.writeHead(200, { 'content-length': body.length });
      res.end(body);
    } catch {
      res.writeHead(404);
      res.end();
    }
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('artifact metrics: the download cache', () => {
  let ferry: FerryHarness;
  let dist: { port: number; close: () => Promise<void> };
  let metricsPort: number;

  beforeAll(async () => {
    let root = '';
    dist = await serveDist(() => root);
    metricsPort = await freePort();
    const stagingPort = await freePort();
    const origin = `http://127.0.0.1:${dist.port}`;
    ferry = await createHarness({
      instances: 1,
      initialRelease: null,
      artifact: `{ url: "${origin}/hello-{version}.tar.gz", checksums: "${origin}/SHA256SUMS" }`,
      top: `metrics: { listen: "127.0.0.1:${metricsPort}" }\nenvironments: { production: {}, staging: {} }`,
      appExtra: `    environments: { staging: { listen: "127.0.0.1:${stagingPort}" } }\n`,
    });
    root = path.join(ferry.dir, 'dist');
    await ferry.start();
  });

  afterAll(async () => {
    await ferry?.cleanup();
    await dist?.close();
  });

  it('counts a miss and the bytes from the origin, then a hit and the bytes from the cache', async () => {
    for (const env of ['production', 'staging']) {
      const deployed = await ferry.cli('deploy', 'hello', '1.0.0', '--env', env, '--wait');
      expect(deployed.code, deployed.stderr).toBe(0);
    }
    const response = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    const scraped = parseExposition(await response.text());
    const size = statSync(path.join(ferry.dir, 'dist', 'hello-1.0.0.tar.gz')).size;
    const production = { app: 'hello', env: 'production' };
    const staging = { app: 'hello', env: 'staging' };
    expect(scraped.value('ferry_artifact_cache_misses_total', production)).toBe(1);
    expect(scraped.value('ferry_artifact_fetched_bytes_total', { ...production, source: 'origin' })).toBe(
      size,
    );
    expect(scraped.value('ferry_artifact_cache_hits_total', staging)).toBe(1);
    expect(scraped.value('ferry_artifact_fetched_bytes_total', { ...staging, source: 'cache' })).toBe(size);
    expect(scraped.sum('ferry_artifact_cache_misses_total', staging)).toBe(0);
  });
});
