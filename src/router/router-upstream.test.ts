import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startBackend,
  startResettingBackend,
  startUnreachableBackend,
  type ResettingBackend,
  type TestBackend,
} from './test-support/backends.js';
import { RawClient } from './test-support/raw-client.js';
import {
  backendSpec,
  freePort,
  routeSpec,
  startRouter,
  waitFor,
  type RouterUnderTest,
} from './test-support/router-harness.js';

describe('router: upstream failures and timeouts', () => {
  let router: RouterUnderTest;
  const backends: { close(): Promise<void> }[] = [];

  beforeAll(async () => {
    router = await startRouter();
  });

  afterAll(async () => {
    await router.cleanup();
    await Promise.all(backends.map((b) => b.close()));
  });

  async function backend(name: string, opts?: Parameters<typeof startBackend>[1]): Promise<TestBackend> {
    const started = await startBackend(name, opts);
    backends.push({ close: () => started.kill() });
    return started;
  }

  async function resetting(name: string): Promise<ResettingBackend> {
    const started = await startResettingBackend(name);
    backends.push(started);
    return started;
  }

  async function inFlight(route: string): Promise<number> {
    const stats = (await router.client.stats()).routes[route]!;
    return stats.backends.reduce((sum, b) => sum + b.inFlight, 0);
  }

  it('never replays POST, PATCH or a DELETE with a body after a backend reset: one arrival, 502', async () => {
    const resetter = await resetting('r-only');
    const port = await freePort();
    // The only backend: a replay would have to come back to it, which the arrivals would show.
    await router.client.putRoute(routeSpec('no-replay', port, [backendSpec(resetter, 'v1')]));
    const url = `http://127.0.0.1:${port}/orders`;
    for (const [method, body] of [
      ['POST', undefined],
      ['PATCH', undefined],
      ['DELETE', 'id=7'],
    ] as const) {
      const before = resetter.arrivals.length;
      const response = await fetch(url, { method, body });
      expect(response.status, method).toBe(502);
      expect(resetter.arrivals.slice(before), method).toEqual([method]);
    }
    await waitFor('nothing in flight', async () => (await inFlight('no-replay')) === 0);
  });

  it('gives up connecting after the connect timeout and sends the request to another instance', async () => {
    const frozen = await startUnreachableBackend('frozen');
    backends.push(frozen);
    const healthy = await backend('c-healthy');
    const port = await freePort();
    // The frozen one first and heavier, so it certainly gets the request first.
    await router.client.putRoute(
      routeSpec(
        'connect-timeout',
        port,
        [
          { id: 'frozen', release: 'v1', host: '127.0.0.1', port: frozen.port, weight: 5, healthy: true },
          backendSpec(healthy, 'v1', 1),
        ],
        undefined,
        { connectTimeoutMs: 500 },
      ),
    );
    // Nothing was sent to the frozen one, so even a POST moves on.
    const started = Date.now();
    const response = await fetch(`http://127.0.0.1:${port}/orders`, { method: 'POST', body: 'x' });
    expect(response.status).toBe(200);
    // The route's 500 ms, not the default 5 s (a wide margin for a busy machine).
    expect(Date.now() - started).toBeLessThan(4000);
    expect(((await response.json()) as { backend: string }).backend).toBe('c-healthy');
    const stats = (await router.client.stats()).routes['connect-timeout']!.backends;
    expect(stats.find((b) => b.id === 'frozen')).toMatchObject({ requests: 1, errors: 1 });
  });

  it('retries a GET that was reset onto another instance, where it succeeds', async () => {
    const resetter = await resetting('r-first');
    const healthy = await backend('r-healthy');
    const port = await freePort();
    // The resetter first and heavier, so it certainly gets the request first.
    await router.client.putRoute(
      routeSpec('replay-get', port, [backendSpec(resetter, 'v1', 5), backendSpec(healthy, 'v1', 1)]),
    );
    const response = await fetch(`http://127.0.0.1:${port}/report`);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { backend: string }).backend).toBe('r-healthy');
    expect(resetter.arrivals).toEqual(['GET']);
    expect(healthy.received).toBe(1);
    const stats = (await router.client.stats()).routes['replay-get']!.backends;
    expect(stats.find((b) => b.id === 'r-first')).toMatchObject({ errors: 1, requests: 1 });
  });

  it('answers 504 when a backend accepts the request and never answers within the response timeout', async () => {
    const hung = await backend('hung', { handler: () => undefined });
    const port = await freePort();
    await router.client.putRoute(
      routeSpec('response-timeout', port, [backendSpec(hung, 'v1')], undefined, { responseTimeoutMs: 1000 }),
    );
    const started = Date.now();
    const response = await fetch(`http://127.0.0.1:${port}/slow`);
    const elapsed = Date.now() - started;
    expect(response.status).toBe(504);
    expect(await response.text()).toMatch(/backend hung failed/);
    expect(elapsed).toBeGreaterThanOrEqual(900);
    // The route's 1 s, not the 60 s default: half of it is a margin no busy machine eats up.
    expect(elapsed).toBeLessThan(30_000);
    await waitFor('nothing in flight', async () => (await inFlight('response-timeout')) === 0);
  });

  it("relays a response's headers as soon as the backend sends them, before any body (an event stream)", async () => {
    let finish = (): void => undefined;
    const streaming = await backend('headers-first', {
      handler: (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.flushHeaders();
        finish = () => res.end('data: done\n\n');
      },
    });
    const port = await freePort();
    await router.client.putRoute(routeSpec('headers-first', port, [backendSpec(streaming, 'v1')]));
    // fetch resolves on the headers: with none relayed until the body, this would never resolve.
    const response = await fetch(`http://127.0.0.1:${port}/events`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    finish();
    expect(await response.text()).toBe('data: done\n\n');
  });

  it('ends an exchange whose backend sent headers and then stalled, after the idle timeout', async () => {
    const stalled = await backend('stalled', {
      handler: (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('partial');
      },
    });
    const port = await freePort();
    await router.client.putRoute(
      routeSpec('idle-timeout', port, [backendSpec(stalled, 'v1')], undefined, { idleTimeoutMs: 1000 }),
    );
    const started = Date.now();
    const response = await fetch(`http://127.0.0.1:${port}/stream`);
    expect(response.status).toBe(200);
    const outcome = await response.text().then(
      () => 'completed',
      () => 'cut',
    );
    const elapsed = Date.now() - started;
    expect(outcome).toBe('cut');
    expect(elapsed).toBeGreaterThanOrEqual(900);
    // The route's 1 s, not the 60 s default.
    expect(elapsed).toBeLessThan(30_000);
    await waitFor('nothing in flight', async () => (await inFlight('idle-timeout')) === 0);
  });

  it('ends an exchange whose client stops reading the response, after the idle timeout', async () => {
    const chunk = Buffer.alloc(64 * 1024, 120);
    const endless = await backend('endless', {
      handler: (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        const pump = (): void => {
          while (!res.destroyed && res.write(chunk));
          if (!res.destroyed) res.once('drain', pump);
        };
        pump();
      },
    });
    const port = await freePort();
    await router.client.putRoute(
      routeSpec('slow-reader', port, [backendSpec(endless, 'v1')], undefined, { idleTimeoutMs: 1000 }),
    );
    const client = await RawClient.connect(port);
    client.write('GET /download HTTP/1.1\r\nHost: a\r\n\r\n');
    await client.waitForText('the response to begin', (text) => text.startsWith('HTTP/1.1 200'));
    // The client reads no more: both socket buffers fill, then nothing moves.
    client.socket.pause();
    await waitFor('the request to be in flight', async () => (await inFlight('slow-reader')) === 1);
    await waitFor('the stalled exchange to end', async () => (await inFlight('slow-reader')) === 0, 20_000);
    client.destroy();
  });
});
