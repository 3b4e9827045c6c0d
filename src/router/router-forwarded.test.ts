import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './test-support/backends.js';
import { getOnce } from './test-support/load.js';
import { RawClient, statusCodes } from './test-support/raw-client.js';
import {
  backendSpec,
  freePort,
  routeSpec,
  startRouter,
  type RouterUnderTest,
} from './test-support/router-harness.js';
import type { IpRange } from './types.js';

/** What a client behind nobody could claim, to pass itself off as someone else. */
const SPOOFED = {
  host: 'app.example.test',
  'x-forwarded-for': '203.0.113.7',
  'x-forwarded-proto': 'https',
  'x-forwarded-host': 'admin.example.test',
  forwarded: 'for=203.0.113.7;proto=https',
  'x-real-ip': '203.0.113.7',
};

const LOOPBACK: IpRange = { address: '127.0.0.0', prefix: 8, family: 'ipv4' };

describe('router: forwarded headers', () => {
  let router: RouterUnderTest;
  let echo: TestBackend;

  beforeAll(async () => {
    router = await startRouter();
    echo = await startBackend('echo');
  });

  afterAll(async () => {
    await router.cleanup();
    await echo.kill();
  });

  async function headersSeen(url: string): Promise<Record<string, string | undefined>> {
    const outcome = await getOnce(url, undefined, SPOOFED);
    expect(outcome.status).toBe(200);
    return (JSON.parse(outcome.body) as { headers: Record<string, string> }).headers;
  }

  it('sets X-Forwarded-* itself and drops Forwarded and X-Real-IP from a peer it does not trust', async () => {
    const port = await freePort();
    await router.client.putRoute(routeSpec('untrusted', port, [backendSpec(echo, 'v1')]));
    const headers = await headersSeen(`http://127.0.0.1:${port}/`);
    expect(headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(headers['x-forwarded-proto']).toBe('http');
    expect(headers['x-forwarded-host']).toBe('app.example.test');
    expect(headers.host).toBe('app.example.test');
    expect(headers.forwarded).toBeUndefined();
    expect(headers['x-real-ip']).toBeUndefined();
  });

  it('keeps the forwarded headers of a trusted proxy and appends the peer to its X-Forwarded-For', async () => {
    const port = await freePort();
    await router.client.putRoute(
      routeSpec('trusted', port, [backendSpec(echo, 'v1')], undefined, { trustedProxies: [LOOPBACK] }),
    );
    const headers = await headersSeen(`http://127.0.0.1:${port}/`);
    expect(headers['x-forwarded-for']).toBe('203.0.113.7, 127.0.0.1');
    expect(headers['x-forwarded-proto']).toBe('https');
    expect(headers['x-forwarded-host']).toBe('admin.example.test');
    expect(headers.forwarded).toBe('for=203.0.113.7;proto=https');
    expect(headers['x-real-ip']).toBe('203.0.113.7');
  });

  it('matches an IPv4 peer on a dual-stack listener (an IPv4-mapped IPv6 address) against IPv4 ranges', async () => {
    const port = await freePort();
    const spec = routeSpec('dual-stack', port, [backendSpec(echo, 'v1')], undefined, {
      trustedProxies: [LOOPBACK],
    });
    await router.client.putRoute({ ...spec, listen: { host: '::', port } });
    const headers = await headersSeen(`http://127.0.0.1:${port}/`);
    expect(headers['x-forwarded-for']).toBe('203.0.113.7, 127.0.0.1');
    expect(headers['x-real-ip']).toBe('203.0.113.7');
  });

  it('answers 400 to a request with two Host headers and forwards nothing', async () => {
    const port = await freePort();
    await router.client.putRoute(routeSpec('two-hosts', port, [backendSpec(echo, 'v1')]));
    const before = echo.received;
    for (const upgrade of ['', 'Connection: Upgrade\r\nUpgrade: websocket\r\n']) {
      const client = await RawClient.connect(port);
      client.write(`GET / HTTP/1.1\r\nHost: app.example.test\r\nHost: admin.example.test\r\n${upgrade}\r\n`);
      const text = await client.waitForClose();
      expect(statusCodes(text)).toEqual([400]);
      expect(text).toMatch(/more than one Host header/);
    }
    expect(echo.received).toBe(before);
  });
});
