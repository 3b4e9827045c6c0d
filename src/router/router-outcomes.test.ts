import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, startResettingBackend, type TestBackend } from './test-support/backends.js';
import { RawClient } from './test-support/raw-client.js';
import {
  backendSpec,
  freePort,
  routeSpec,
  startRouter,
  waitFor,
  type RouterUnderTest,
} from './test-support/router-harness.js';
import type { ReleaseOutcomes, RequestOutcomes } from './types.js';

/**
 * What became of each client request, counted once per request by kind: the served-request report
 * of a deployment is built from these, so a retried request must not count twice and a failure must
 * land in its kind.
 */
describe('router: request outcomes per release and per kind', () => {
  let router: RouterUnderTest;
  const closers: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    router = await startRouter();
  });

  afterAll(async () => {
    await router.cleanup();
    await Promise.all(closers.map((close) => close()));
  });

  async function backend(name: string, opts?: Parameters<typeof startBackend>[1]): Promise<TestBackend> {
    const started = await startBackend(name, opts);
    closers.push(() => started.kill());
    return started;
  }

  async function outcomes(route: string): Promise<RequestOutcomes> {
    return (await router.client.stats()).routes[route]!.outcomes!;
  }

  function release(all: RequestOutcomes, version: string): ReleaseOutcomes | undefined {
    return all.releases.find((r) => r.release === version);
  }

  async function settled(route: string): Promise<RequestOutcomes> {
    await waitFor('nothing in flight', async () => {
      const stats = (await router.client.stats()).routes[route]!;
      return stats.held === 0 && stats.backends.every((b) => b.inFlight === 0);
    });
    return outcomes(route);
  }

  it('counts responses per release by class, and a GET retried after a reset once, where it was answered', async () => {
    const ok = await backend('o-ok');
    const failing = await backend('o-500', {
      handler: (_req, res) => {
        res.writeHead(500, { 'content-length': '4' });
        res.end('boom');
      },
    });
    const resetter = await startResettingBackend('o-reset');
    closers.push(() => resetter.close());
    const port = await freePort();
    // The resetter is heaviest: a GET reset there is replayed on another backend.
    await router.client.putRoute(
      routeSpec('kinds', port, [
        backendSpec(ok, 'v1', 1),
        backendSpec(failing, 'v2', 1),
        backendSpec(resetter, 'v3', 8),
      ]),
    );
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push((await fetch(`http://127.0.0.1:${port}/`)).status);
    const counted = await settled('kinds');
    const answered200 = statuses.filter((s) => s === 200).length;
    const answered500 = statuses.filter((s) => s === 500).length;
    expect(answered200 + answered500).toBe(20);
    expect(release(counted, 'v1')).toMatchObject({ responses: { '2xx': answered200 }, reset: 0, timeout: 0 });
    expect(release(counted, 'v2')).toMatchObject({ responses: { '5xx': answered500 }, reset: 0 });
    // Every reset GET went elsewhere: v3 failed no client request, though its backend saw errors.
    expect(release(counted, 'v3')?.reset ?? 0).toBe(0);
    expect(resetter.arrivals.length).toBeGreaterThan(0);
    expect(counted).toMatchObject({ held: 0, rejected: 0, abandoned: 0 });
  });

  it('counts a POST reset by its instance as a reset (502) of its release', async () => {
    const resetter = await startResettingBackend('p-reset');
    closers.push(() => resetter.close());
    const port = await freePort();
    await router.client.putRoute(routeSpec('reset', port, [backendSpec(resetter, 'r1')]));
    for (let i = 0; i < 3; i++) {
      const response = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: 'x' });
      expect(response.status).toBe(502);
    }
    expect(release(await settled('reset'), 'r1')).toMatchObject({ reset: 3, timeout: 0 });
  });

  it('counts a response timeout as a timeout (504) of its release', async () => {
    const hung = await backend('t-hung', { handler: () => undefined });
    const port = await freePort();
    await router.client.putRoute(
      routeSpec('timeout', port, [backendSpec(hung, 't1')], undefined, { responseTimeoutMs: 300 }),
    );
    expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(504);
    expect(release(await settled('timeout'), 't1')).toMatchObject({ reset: 0, timeout: 1 });
  });

  it('counts a request held with no usable instance, then answered 503, as held; an invalid one as rejected', async () => {
    const sick = await backend('h-sick');
    const port = await freePort();
    await router.client.putRoute(routeSpec('held', port, [backendSpec(sick, 'h1', 1, false)], 200));
    expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(503);
    const client = await RawClient.connect(port);
    client.write('GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n');
    await client.waitForText('the 400', (text) => text.startsWith('HTTP/1.1 400'));
    client.destroy();
    const counted = await settled('held');
    expect(counted).toMatchObject({ held: 1, rejected: 1, abandoned: 0 });
    expect(release(counted, 'h1')).toBeUndefined();
  });

  it('counts a client that leaves before its answer as abandoned, not as served or failed', async () => {
    const slow = await backend('a-slow', { latencyMs: 2_000 });
    const port = await freePort();
    await router.client.putRoute(routeSpec('abandoned', port, [backendSpec(slow, 'a1')]));
    const client = await RawClient.connect(port);
    client.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    await waitFor('the request to be in flight', async () => {
      const stats = (await router.client.stats()).routes.abandoned!;
      return stats.backends.some((b) => b.inFlight === 1);
    });
    client.destroy();
    const counted = await settled('abandoned');
    expect(counted.abandoned).toBe(1);
    expect(release(counted, 'a1') ?? { responses: { '2xx': 0 } }).toMatchObject({ responses: { '2xx': 0 } });
  });

  it('keeps the counts of a release after its instances left the route', async () => {
    const old = await backend('k-old');
    const next = await backend('k-new');
    const port = await freePort();
    await router.client.putRoute(routeSpec('kept', port, [backendSpec(old, 'k1')]));
    for (let i = 0; i < 5; i++) expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(200);
    await router.client.putRoute(routeSpec('kept', port, [backendSpec(next, 'k2')]));
    for (let i = 0; i < 3; i++) expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(200);
    const counted = await settled('kept');
    expect(counted.releases.map((r) => [r.release, r.responses['2xx']])).toEqual([
      ['k1', 5],
      ['k2', 3],
    ]);
  });
});
