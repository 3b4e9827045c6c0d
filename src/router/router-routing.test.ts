import { Agent } from 'node:http';
import { WebSocket } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isFerryError } from '../errors/ferry-error.js';
import { startBackend, type TestBackend } from './test-support/backends.js';
import { getOnce, runLoad } from './test-support/load.js';
import {
  backendSpec,
  freePort,
  routeSpec,
  startRouter,
  waitFor,
  type RouterUnderTest,
} from './test-support/router-harness.js';

describe('router: routing', () => {
  let router: RouterUnderTest;
  const backends: TestBackend[] = [];

  beforeAll(async () => {
    router = await startRouter();
  });

  afterAll(async () => {
    await router.cleanup();
    await Promise.all(backends.map((b) => b.kill()));
  });

  async function backend(name: string, opts?: Parameters<typeof startBackend>[1]): Promise<TestBackend> {
    const started = await startBackend(name, opts);
    backends.push(started);
    return started;
  }

  it('splits 90/10 by weight, never sends to weight 0 or unhealthy backends', async () => {
    const [heavy, light, idle, sick] = await Promise.all([
      backend('w-heavy'),
      backend('w-light'),
      backend('w-idle'),
      backend('w-sick'),
    ]);
    const port = await freePort();
    await router.client.putRoute(
      routeSpec('weights', port, [
        backendSpec(heavy, 'v1', 90),
        backendSpec(light, 'v2', 10),
        backendSpec(idle, 'v1', 0),
        backendSpec(sick, 'v2', 50, false),
      ]),
    );
    const load = await runLoad({
      url: `http://127.0.0.1:${port}/`,
      concurrency: 8,
      durationMs: 100_000,
      maxRequests: 1000,
    });
    expect(load.failed).toBe(0);
    expect(load.ok).toBe(1000);
    // Smooth weighted round-robin is exact per cycle of 100: no statistical slack needed beyond one cycle.
    expect(load.byBackend.get('w-heavy')).toBeGreaterThanOrEqual(890);
    expect(load.byBackend.get('w-light')).toBeGreaterThanOrEqual(90);
    expect(idle.received).toBe(0);
    expect(sick.received).toBe(0);
    const stats = (await router.client.stats()).routes.weights!;
    expect(stats.backends.find((b) => b.id === 'w-heavy')?.responses['2xx']).toBe(
      load.byBackend.get('w-heavy'),
    );
    expect(stats.backends.find((b) => b.id === 'w-sick')?.requests).toBe(0);
  });

  it('uses weight-0 backends when no weighted one is healthy, and never an unhealthy one', async () => {
    const [old, next] = await Promise.all([backend('f-old'), backend('f-new')]);
    const port = await freePort();
    await router.client.putRoute(
      routeSpec('fallback', port, [backendSpec(old, 'v1', 0), backendSpec(next, 'v2', 100, false)]),
    );
    const load = await runLoad({
      url: `http://127.0.0.1:${port}/`,
      concurrency: 4,
      durationMs: 100_000,
      maxRequests: 100,
    });
    expect(load.failed).toBe(0);
    expect(load.byBackend.get('f-old')).toBe(100);
    expect(next.received).toBe(0);
  });

  it('holds a request while no backend is usable and completes it when one appears', async () => {
    const port = await freePort();
    await router.client.putRoute(routeSpec('hold', port, [], 20_000));
    const pending = getOnce(`http://127.0.0.1:${port}/held`);
    await waitFor(
      'the request to be held',
      async () => (await router.client.stats()).routes.hold?.held === 1,
    );
    const late = await backend('h-late');
    await router.client.putRoute(routeSpec('hold', port, [backendSpec(late, 'v1')], 20_000));
    const outcome = await pending;
    expect(outcome.status).toBe(200);
    expect(outcome.backend).toBe('h-late');
  });

  it('answers 503 when the hold times out, without touching an unhealthy backend', async () => {
    const sick = await backend('t-sick');
    const port = await freePort();
    await router.client.putRoute(routeSpec('hold-timeout', port, [backendSpec(sick, 'v1', 1, false)], 300));
    const started = Date.now();
    const outcome = await getOnce(`http://127.0.0.1:${port}/`);
    expect(outcome.status).toBe(503);
    expect(outcome.body).toMatch(/no usable backend for route hold-timeout within 300ms/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(sick.received).toBe(0);
  });

  it('sets X-Forwarded-*, strips hop-by-hop headers, keeps Host and every Set-Cookie, streams bodies', async () => {
    const cookies = await backend('h-cookies', {
      handler: (req, res, self) => {
        if (req.url === '/cookies') {
          res.setHeader('set-cookie', ['a=1; Path=/', 'b=2; Path=/']);
          res.end('ok');
          return;
        }
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', () => {
          res.setHeader('content-type', 'application/json');
          res.end(
            JSON.stringify({
              backend: self.name,
              headers: req.headers,
              body: Buffer.concat(chunks).toString('base64'),
            }),
          );
        });
      },
    });
    const port = await freePort();
    await router.client.putRoute(routeSpec('headers', port, [backendSpec(cookies, 'v1')]));
    const seen = await getOnce(`http://127.0.0.1:${port}/h`, undefined, {
      host: 'app.example.test',
      'x-forwarded-for': '203.0.113.7',
      connection: 'keep-alive, x-private',
      'x-private': 'secret',
      'keep-alive': 'timeout=5',
    });
    const headers = (JSON.parse(seen.body) as { headers: Record<string, string> }).headers;
    // The test client is no trusted proxy: its X-Forwarded-For is replaced, not extended.
    expect(headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(headers['x-forwarded-proto']).toBe('http');
    expect(headers['x-forwarded-host']).toBe('app.example.test');
    expect(headers.host).toBe('app.example.test');
    expect(headers['x-private']).toBeUndefined();
    expect(headers['keep-alive']).toBeUndefined();

    const cookieResponse = await fetch(`http://127.0.0.1:${port}/cookies`);
    expect(cookieResponse.headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2; Path=/']);

    const upload = Buffer.alloc(2 * 1024 * 1024, 7);
    const echoed = await fetch(`http://127.0.0.1:${port}/upload`, { method: 'POST', body: upload });
    const echoedBody = (await echoed.json()) as { body: string };
    expect(Buffer.from(echoedBody.body, 'base64').equals(upload)).toBe(true);
  });

  it('sends a POST elsewhere, body intact, when its first backend refuses the connection', async () => {
    const live = await backend('p-live');
    const dead = await backend('p-dead');
    await dead.kill();
    const port = await freePort();
    // The dead backend first in order and heavier, so the first choice is certainly the refused one.
    await router.client.putRoute(
      routeSpec('post-retry', port, [backendSpec(dead, 'v1', 5), backendSpec(live, 'v1', 1)]),
    );
    const upload = Buffer.alloc(256 * 1024, 3);
    const response = await fetch(`http://127.0.0.1:${port}/upload`, { method: 'POST', body: upload });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { bodyBytes: number }).bodyBytes).toBe(upload.length);
    const stats = (await router.client.stats()).routes['post-retry']!.backends;
    expect(stats.find((b) => b.id === 'p-dead')).toMatchObject({ errors: 1, requests: 1, inFlight: 0 });
    expect(stats.find((b) => b.id === 'p-dead')!.ejectedUntil).not.toBeNull();
  });

  it('stops the upstream request when the client goes away, so nothing stays in flight', async () => {
    const stalled = await backend('stalled', { handler: (_req, res) => res.write('partial') });
    const port = await freePort();
    await router.client.putRoute(routeSpec('abandoned', port, [backendSpec(stalled, 'v1')]));
    const controller = new AbortController();
    const response = await fetch(`http://127.0.0.1:${port}/`, { signal: controller.signal });
    expect(response.status).toBe(200);
    const inFlight = async (): Promise<number> =>
      (await router.client.stats()).routes.abandoned!.backends[0]!.inFlight;
    expect(await inFlight()).toBe(1);
    controller.abort();
    await waitFor('the abandoned request to leave the stats', async () => (await inFlight()) === 0);
    expect(await router.client.waitDrained('abandoned', ['stalled'], 1000)).toBe(true);
  });

  it('passes a WebSocket through and counts it as a request', async () => {
    const ws = await backend('ws-echo', { webSocketEcho: true });
    const port = await freePort();
    await router.client.putRoute(routeSpec('websocket', port, [backendSpec(ws, 'v1')]));
    const socket = new WebSocket(`ws://127.0.0.1:${port}/socket`);
    const echoed = await new Promise<string>((resolve, reject) => {
      socket.addEventListener('open', () => socket.send('hello through the router'));
      socket.addEventListener('message', (event) => resolve(String(event.data)));
      socket.addEventListener('error', () => reject(new Error('websocket error')));
    });
    socket.close();
    expect(echoed).toBe('hello through the router');
    const stats = (await router.client.stats()).routes.websocket!.backends[0]!;
    expect(stats.requests).toBe(1);
    expect(stats.responses['1xx']).toBe(1);
    expect(stats.inFlight).toBe(0);
  });

  it('refuses bad route bodies with 400 naming the field, and changes nothing', async () => {
    const before = await router.client.routes();
    const bad: [unknown, RegExp][] = [
      [{ listen: { host: '127.0.0.1', port: 'x' }, backends: [] }, /listen\.port: expected a port number/],
      [
        {
          listen: { host: '127.0.0.1', port: 8 },
          backends: [{ id: 'a', release: 'v', host: 'h', port: 1, weight: -1, healthy: true }],
        },
        /backends\[0\]\.weight: expected a number >= 0, got -1/,
      ],
      [
        {
          listen: { host: '127.0.0.1', port: 8 },
          backends: [{ id: 'a', release: 'v', host: 'h', port: 1, weight: 1, healthy: 'yes' }],
        },
        /backends\[0\]\.healthy/,
      ],
      [{ listen: { host: '127.0.0.1', port: 8 } }, /backends: expected a list/],
      [
        { name: 'other', listen: { host: '127.0.0.1', port: 8 }, backends: [] },
        /name: expected the name in the path "bad"/,
      ],
    ];
    for (const [body, message] of bad) {
      const response = await fetchControl(router.stateDir, 'PUT', '/routes/bad', JSON.stringify(body));
      expect(response.status).toBe(400);
      expect((JSON.parse(response.body) as { message: string }).message).toMatch(message);
    }
    const viaClient: unknown = await router.client.putRoute(routeSpec('bad', 0, [])).catch((e: unknown) => e);
    expect(isFerryError(viaClient, 'FERRY_E_USAGE')).toBe(true);
    expect((viaClient as Error).message).toMatch(
      /listen\.port: expected a port number from 1 to 65535, got 0/,
    );
    const invalidJson = await fetchControl(router.stateDir, 'PUT', '/routes/bad', '{not json');
    expect(invalidJson.status).toBe(400);
    expect(invalidJson.body).toMatch(/body: expected a JSON RouteSpec/);
    expect(await router.client.routes()).toEqual(before);
  });

  it('fails putRoute with FERRY_E_PORT_IN_USE naming host:port when another process holds the port', async () => {
    const squatter = await backend('squatter');
    const error: unknown = await router.client
      .putRoute(routeSpec('taken', squatter.port, []))
      .catch((e: unknown) => e);
    expect(isFerryError(error, 'FERRY_E_PORT_IN_USE')).toBe(true);
    expect((error as Error).message).toContain(`127.0.0.1:${squatter.port}`);
    expect((await router.client.routes()).map((r) => r.name)).not.toContain('taken');
  });

  it('moves a route to a new listen address', async () => {
    const app = await backend('m-app');
    const [first, second] = [await freePort(), await freePort()];
    await router.client.putRoute(routeSpec('moving', first, [backendSpec(app, 'v1')]));
    expect((await getOnce(`http://127.0.0.1:${first}/`)).status).toBe(200);
    await router.client.putRoute(routeSpec('moving', second, [backendSpec(app, 'v1')]));
    expect((await getOnce(`http://127.0.0.1:${second}/`, new Agent())).status).toBe(200);
    await waitFor(
      'the old address to close',
      async () => (await getOnce(`http://127.0.0.1:${first}/`)).status === 0,
    );
  });
});

async function fetchControl(
  stateDir: string,
  method: string,
  path: string,
  body: string,
): Promise<{ status: number; body: string }> {
  const { request } = await import('node:http');
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath: `${stateDir}/router.sock`,
        method,
        path,
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
