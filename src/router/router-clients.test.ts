import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './test-support/backends.js';
import { getOnce } from './test-support/load.js';
import { RawClient, statusCodes } from './test-support/raw-client.js';
import {
  backendSpec,
  freePort,
  routeSpec,
  startRouter,
  waitFor,
  type RouterUnderTest,
} from './test-support/router-harness.js';

const REQUEST = 'GET / HTTP/1.1\r\nHost: a\r\n\r\n';

describe('router: client connections', () => {
  let router: RouterUnderTest;
  let app: TestBackend;
  const clients: RawClient[] = [];

  beforeAll(async () => {
    // One worker: limits are per worker process (each admits its share), and these count exactly.
    router = await startRouter({ workers: 1 });
    app = await startBackend('app');
  });

  afterAll(async () => {
    for (const client of clients) client.destroy();
    await router.cleanup();
    await app.kill();
  });

  async function connect(port: number): Promise<RawClient> {
    const client = await RawClient.connect(port);
    clients.push(client);
    return client;
  }

  async function route(name: string, settings: Parameters<typeof routeSpec>[4]): Promise<number> {
    const port = await freePort();
    await router.client.putRoute(routeSpec(name, port, [backendSpec(app, 'v1')], undefined, settings));
    return port;
  }

  async function openConnections(name: string): Promise<number> {
    return (await router.client.stats()).routes[name]!.connections;
  }

  it("answers and closes connections over an app's limit at once, while another app serves on", async () => {
    const portA = await route('limited-a', { maxConnections: 3, headerTimeoutMs: 60_000 });
    const portB = await route('limited-b', {});
    // Slow clients hold all of A's connections: they never finish their headers.
    for (let i = 0; i < 3; i++) (await connect(portA)).write('GET / HTTP/1.1\r\nHost: a\r\n');
    await waitFor('three open connections', async () => (await openConnections('limited-a')) === 3);
    const excess = await Promise.all([connect(portA), connect(portA)]);
    for (const client of excess) {
      const text = await client.waitForClose();
      expect(statusCodes(text)).toEqual([503]);
      expect(text).toMatch(/\r\nConnection: close\r\n/);
      expect(text).toMatch(/too many connections to this app/);
    }
    expect((await getOnce(`http://127.0.0.1:${portB}/`)).status).toBe(200);
    const stats = (await router.client.stats()).routes['limited-a']!;
    expect(stats.connections).toBe(3);
    expect(stats.refusedConnections).toEqual({ maxConnections: 2, maxConnectionsPerClient: 0 });
  });

  it('refuses connections over the per-client limit with 429, except from a trusted proxy', async () => {
    const port = await route('per-client', { maxConnectionsPerClient: 2, headerTimeoutMs: 60_000 });
    for (let i = 0; i < 2; i++) (await connect(port)).write('GET / HTTP/1.1\r\n');
    await waitFor('two open connections', async () => (await openConnections('per-client')) === 2);
    const third = await connect(port);
    expect(statusCodes(await third.waitForClose())).toEqual([429]);
    expect((await router.client.stats()).routes['per-client']!.refusedConnections).toEqual({
      maxConnections: 0,
      maxConnectionsPerClient: 1,
    });

    const proxied = await route('per-client-proxy', {
      maxConnectionsPerClient: 2,
      headerTimeoutMs: 60_000,
      trustedProxies: [{ address: '127.0.0.0', prefix: 8, family: 'ipv4' }],
    });
    for (let i = 0; i < 2; i++) (await connect(proxied)).write('GET / HTTP/1.1\r\n');
    const fromProxy = await connect(proxied);
    fromProxy.write(REQUEST);
    const text = await fromProxy.waitForText('an answer', (t) => t.includes('"backend":"app"'));
    expect(statusCodes(text)).toEqual([200]);
  });

  it('answers 408 to a client that does not send its headers within the header timeout', async () => {
    const port = await route('header-timeout', { headerTimeoutMs: 1000 });
    const receivedBefore = app.received;
    const started = Date.now();
    const silent = await connect(port);
    const partial = await connect(port);
    partial.write('GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ');
    for (const client of [silent, partial]) {
      const text = await client.waitForClose();
      expect(statusCodes(text)).toEqual([408]);
      expect(text).toMatch(/\r\nConnection: close\r\n/);
    }
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(app.received).toBe(receivedBefore);
  });

  it('answers 408 to a client that does not send its whole request within the request timeout', async () => {
    const port = await route('request-timeout', { headerTimeoutMs: 1000, requestTimeoutMs: 1500 });
    const client = await connect(port);
    const started = Date.now();
    client.write('POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nab');
    expect(statusCodes(await client.waitForClose())).toEqual([408]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    await waitFor(
      'the upstream request to be given up',
      async () => (await router.client.stats()).routes['request-timeout']!.backends[0]!.inFlight === 0,
    );
  });

  it('answers 431 to headers over the size limit and 400 to what is not HTTP', async () => {
    const port = await route('parse-errors', { maxHeaderBytes: 1024 });
    const large = await connect(port);
    large.write(`GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'b'.repeat(2048)}\r\n\r\n`);
    expect(statusCodes(await large.waitForClose())).toEqual([431]);
    const garbage = await connect(port);
    garbage.write('HELLO THERE\r\n\r\n');
    expect(statusCodes(await garbage.waitForClose())).toEqual([400]);
    const fine = await connect(port);
    fine.write(`GET / HTTP/1.1\r\nHost: a\r\nX-Small: ${'s'.repeat(512)}\r\n\r\n`);
    expect(statusCodes(await fine.waitForText('an answer', (t) => t.includes('"backend"')))).toEqual([200]);
  });

  it('keeps an idle keep-alive connection between requests open past the header timeout, with no 408', async () => {
    const port = await route('keep-alive', { headerTimeoutMs: 500, requestTimeoutMs: 500 });
    const client = await connect(port);
    client.write(REQUEST);
    await client.waitForText('the first answer', (t) => t.includes('"backend":"app"'));
    const afterFirst = client.text.length;
    // Idle for several header timeouts: asserting that nothing happens needs a wait of its own.
    await delay(2000);
    expect(client.closed).toBe(false);
    expect(client.text.length).toBe(afterFirst);
    client.write(REQUEST);
    const text = await client.waitForText('the second answer', (t) => statusCodes(t).length === 2);
    expect(statusCodes(text)).toEqual([200, 200]);
  });
});
