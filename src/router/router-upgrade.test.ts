import { WebSocket } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './test-support/backends.js';
import { RawClient, statusCodes } from './test-support/raw-client.js';
import {
  backendSpec,
  freePort,
  routeSpec,
  startRouter,
  type RouterUnderTest,
} from './test-support/router-harness.js';

const UPGRADE = 'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n';

describe('router: upgrade requests', () => {
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

  async function backendStats(route: string, id: string) {
    return (await router.client.stats()).routes[route]!.backends.find((b) => b.id === id)!;
  }

  it('relays a non-101 answer as one response and closes: nothing after it reaches the backend raw', async () => {
    // An app that knows nothing of WebSockets answers the upgrade like any request.
    const plain = await backend('u-plain', {
      handler: (req, res) => {
        const body = `plain answer to ${req.url}`;
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      },
    });
    const port = await freePort();
    await router.client.putRoute(routeSpec('upgrade-plain', port, [backendSpec(plain, 'v1')]));
    const client = await RawClient.connect(port);
    client.write(`GET /first HTTP/1.1\r\nHost: a\r\n${UPGRADE}\r\n`);
    await client.waitForText('the first answer', (text) => text.endsWith('plain answer to /first'));
    // A raw tunnel would hand this to the backend, past the router's parsing and rules.
    if (!client.closed) client.write('GET /second HTTP/1.1\r\nHost: a\r\n\r\n');
    const text = await client.waitForClose();
    expect(statusCodes(text)).toEqual([200]);
    expect(text).toMatch(/\r\nconnection: close\r\n/i);
    expect(text.endsWith('\r\n\r\nplain answer to /first')).toBe(true);
    expect(plain.received).toBe(1);
    const stats = await backendStats('upgrade-plain', 'u-plain');
    expect(stats).toMatchObject({ requests: 1, inFlight: 0 });
    expect(stats.responses['2xx']).toBe(1);
  });

  it('re-frames a non-101 answer without a length as chunked', async () => {
    const chunky = await backend('u-chunked', {
      handler: (_req, res) => {
        res.writeHead(426, { 'content-type': 'text/plain' });
        res.write('upgrade ');
        setImmediate(() => res.end('required'));
      },
    });
    const port = await freePort();
    await router.client.putRoute(routeSpec('upgrade-chunked', port, [backendSpec(chunky, 'v1')]));
    const client = await RawClient.connect(port);
    client.write(`GET / HTTP/1.1\r\nHost: a\r\n${UPGRADE}\r\n`);
    const text = await client.waitForClose();
    expect(statusCodes(text)).toEqual([426]);
    expect(text).toMatch(/\r\ntransfer-encoding: chunked\r\n/i);
    const body = text.slice(text.indexOf('\r\n\r\n') + 4);
    expect(body).toBe('8\r\nupgrade \r\n8\r\nrequired\r\n0\r\n\r\n');
    expect((await backendStats('upgrade-chunked', 'u-chunked')).responses['4xx']).toBe(1);
  });

  it('answers 504 when the backend does not answer the upgrade within the upgrade timeout', async () => {
    const silent = await backend('u-silent', { onUpgrade: () => undefined });
    const port = await freePort();
    await router.client.putRoute(
      routeSpec('upgrade-timeout', port, [backendSpec(silent, 'v1')], undefined, { upgradeTimeoutMs: 1000 }),
    );
    const started = Date.now();
    const client = await RawClient.connect(port);
    client.write(`GET /socket HTTP/1.1\r\nHost: a\r\n${UPGRADE}Sec-WebSocket-Key: dGhlIHNhbXBsZQ==\r\n\r\n`);
    const text = await client.waitForClose();
    expect(statusCodes(text)).toEqual([504]);
    expect(text).toMatch(/no answer to the upgrade within 1000ms/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    const stats = await backendStats('upgrade-timeout', 'u-silent');
    expect(stats).toMatchObject({ requests: 1, inFlight: 0, errors: 1 });
  });

  it('tunnels after a 101, counting the handshake in flight only until the 101', async () => {
    const ws = await backend('u-ws', { webSocketEcho: true });
    const port = await freePort();
    await router.client.putRoute(routeSpec('upgrade-ws', port, [backendSpec(ws, 'v1')]));
    const socket = new WebSocket(`ws://127.0.0.1:${port}/socket`);
    const echoed = await new Promise<string>((resolve, reject) => {
      socket.addEventListener('open', () => socket.send('through the router'));
      socket.addEventListener('message', (event) => resolve(String(event.data)));
      socket.addEventListener('error', () => reject(new Error('websocket error')));
    });
    expect(echoed).toBe('through the router');
    const stats = await backendStats('upgrade-ws', 'u-ws');
    expect(stats).toMatchObject({ requests: 1, inFlight: 0 });
    expect(stats.responses['1xx']).toBe(1);
    socket.close();
  });
});
