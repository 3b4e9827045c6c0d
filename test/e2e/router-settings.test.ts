import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RouterClient } from '../../src/router/client.js';
import { createHarness, type FerryHarness } from '../support/ferry.js';

/** An app's `router` settings reach its route in the router process. */
describe('ferry up: the router settings of an app', () => {
  let ferry: FerryHarness;

  beforeAll(async () => {
    ferry = await createHarness({
      instances: 1,
      appExtra:
        '    router: { response_timeout: 7s, idle_timeout: 0s, max_connections: 50, max_header_size: 8KiB, trusted_proxies: [10.0.0.0/8, "::1"] }\n',
    });
    await ferry.start();
  });

  afterAll(async () => {
    await ferry?.cleanup();
  });

  it('are in the route the daemon put, the others at their defaults', async () => {
    const router = new RouterClient({ stateDir: path.join(ferry.home, 'router') });
    const route = (await router.routes()).find((r) => r.name === 'hello.production');
    expect(route).toMatchObject({
      connectTimeoutMs: 5000,
      responseTimeoutMs: 7000,
      idleTimeoutMs: 0,
      upgradeTimeoutMs: 10_000,
      headerTimeoutMs: 20_000,
      requestTimeoutMs: 300_000,
      maxHeaderBytes: 8192,
      maxConnections: 50,
      maxConnectionsPerClient: 1000,
      trustedProxies: [
        { address: '10.0.0.0', prefix: 8, family: 'ipv4' },
        { address: '::1', prefix: 128, family: 'ipv6' },
      ],
    });
    const response = await fetch(`http://127.0.0.1:${ferry.appPort}/`);
    expect(response.status).toBe(200);
  });
});
