import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './test-support/backends.js';
import { runLoad } from './test-support/load.js';
import {
  backendSpec,
  freePort,
  routeSpec,
  startRouter,
  waitFor,
  type RouterUnderTest,
} from './test-support/router-harness.js';

/** Zero failed requests while traffic moves: the product's core promise, under real keep-alive load. */
describe('router: traffic under load', () => {
  let router: RouterUnderTest;
  const everyBackend: TestBackend[] = [];

  beforeAll(async () => {
    router = await startRouter();
  });

  afterAll(async () => {
    await router.cleanup();
    await Promise.all(everyBackend.map((b) => b.kill()));
  });

  async function release(round: number): Promise<TestBackend[]> {
    const opts = { latencyMs: 5 };
    const started = await Promise.all([startBackend(`r${round}-a`, opts), startBackend(`r${round}-b`, opts)]);
    everyBackend.push(...started);
    return started;
  }

  it('switches releases back and forth under load, stopping the old one once drained: 0 failed', async () => {
    const port = await freePort();
    const name = 'switch';
    let current = await release(0);
    await router.client.putRoute(
      routeSpec(
        name,
        port,
        current.map((b) => backendSpec(b, 'r0')),
      ),
    );
    let switching = true;
    const started = Date.now();
    const load = runLoad({
      url: `http://127.0.0.1:${port}/`,
      concurrency: 32,
      durationMs: 100_000,
      maxRequests: 1_000_000,
      stopWhen: () => !switching,
      postBody: Buffer.alloc(4096, 1),
    });
    for (let round = 1; round <= 10; round++) {
      const next = await release(round);
      await waitFor('load on the current release', () => current.every((b) => b.received > 500));
      // The switch: the new release takes new requests, the old one is only a fallback...
      await router.client.putRoute(
        routeSpec(name, port, [
          ...next.map((b) => backendSpec(b, `r${round}`)),
          ...current.map((b) => backendSpec(b, 'old', 0)),
        ]),
      );
      // ...then leaves the route; its requests in flight finish before its processes stop.
      await router.client.putRoute(
        routeSpec(
          name,
          port,
          next.map((b) => backendSpec(b, `r${round}`)),
        ),
      );
      expect(
        await router.client.waitDrained(
          name,
          current.map((b) => b.name),
          10_000,
        ),
      ).toBe(true);
      await Promise.all(current.map((b) => b.kill()));
      current = next;
    }
    await waitFor('load on the last release', () => current.every((b) => b.received > 500));
    switching = false;
    const result = await load;
    const seconds = (Date.now() - started) / 1000;
    console.info(
      `switch: ${result.ok} requests in ${seconds.toFixed(1)}s (${Math.round(result.ok / seconds)}/s)`,
    );
    expect(result.failures).toEqual([]);
    expect(result.failed).toBe(0);
    expect(result.ok).toBeGreaterThan(2000);
    const stats = (await router.client.stats()).routes[name]!;
    // Drained backends leave the stats; the last release is all that remains.
    expect(stats.backends.map((b) => b.id).sort()).toEqual(current.map((b) => b.name).sort());
  });

  it('retries elsewhere when a backend dies under load, counts its errors and ejects it: 0 failed', async () => {
    const port = await freePort();
    const name = 'dying';
    const opts = { latencyMs: 2 };
    const [doomed, survivor] = await Promise.all([
      startBackend('doomed', opts),
      startBackend('survivor', opts),
    ]);
    everyBackend.push(doomed, survivor);
    await router.client.putRoute(
      routeSpec(name, port, [backendSpec(doomed, 'v1'), backendSpec(survivor, 'v1')]),
    );
    let running = true;
    const load = runLoad({
      url: `http://127.0.0.1:${port}/`,
      concurrency: 16,
      durationMs: 100_000,
      maxRequests: 1_000_000,
      stopWhen: () => !running,
    });
    await waitFor('load on both backends', () => doomed.received > 500 && survivor.received > 500);
    await doomed.kill();
    let ejectedSeen = false;
    await waitFor('the dead backend to be ejected', async () => {
      const stats = (await router.client.stats()).routes[name]!.backends.find((b) => b.id === 'doomed')!;
      ejectedSeen = stats.ejectedUntil !== null && stats.errors > 0;
      return ejectedSeen;
    });
    const survivorBefore = survivor.received;
    await waitFor('more load on the survivor', () => survivor.received > survivorBefore + 2000, 20_000);
    running = false;
    const result = await load;
    expect(result.failures).toEqual([]);
    expect(result.failed).toBe(0);
    const stats = (await router.client.stats()).routes[name]!.backends.find((b) => b.id === 'doomed')!;
    expect(stats.errors).toBeGreaterThan(0);
    expect(stats.inFlight).toBe(0);
  });

  it('holds and retries through an all-at-once restart on the same port: 0 failed', async () => {
    const port = await freePort();
    const name = 'restart';
    const first = await startBackend('only');
    everyBackend.push(first);
    await router.client.putRoute(routeSpec(name, port, [backendSpec(first, 'v1')]));
    let running = true;
    const load = runLoad({
      url: `http://127.0.0.1:${port}/`,
      concurrency: 8,
      durationMs: 100_000,
      maxRequests: 1_000_000,
      stopWhen: () => !running,
    });
    await waitFor('load on the backend', () => first.received > 300);
    await first.kill();
    await waitFor('connection errors on the stopped backend', async () => {
      const stats = (await router.client.stats()).routes[name]!.backends[0]!;
      return stats.errors > 0;
    });
    const second = await startBackend('only', { port: first.port });
    everyBackend.push(second);
    await waitFor('load on the restarted backend', () => second.received > 300);
    running = false;
    const result = await load;
    expect(result.failures).toEqual([]);
    expect(result.failed).toBe(0);
  });
});
