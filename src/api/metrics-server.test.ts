import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { isFerryError } from '../errors/ferry-error.js';
import { listenMetrics } from './metrics-server.js';

const metrics = {
  exposition: () => Promise.resolve({ contentType: 'text/plain; version=0.0.4', text: 'up 1\n' }),
};

describe('the metrics listener', () => {
  it('serves GET /metrics without a token and nothing else', async () => {
    const server = await listenMetrics(metrics, { host: '127.0.0.1', port: 0 });
    try {
      const base = `http://127.0.0.1:${server.address.port}`;
      const scraped = await fetch(`${base}/metrics`);
      expect(scraped.status).toBe(200);
      expect(scraped.headers.get('content-type')).toBe('text/plain; version=0.0.4');
      expect(await scraped.text()).toBe('up 1\n');
      expect((await fetch(`${base}/v1/status`)).status).toBe(404);
      expect((await fetch(`${base}/metrics`, { method: 'DELETE' })).status).toBe(405);
    } finally {
      await server.close();
    }
  });

  it('fails with FERRY_E_PORT_IN_USE naming metrics.listen when the port is taken', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as net.AddressInfo;
    try {
      const error = await listenMetrics(metrics, { host: '127.0.0.1', port }).catch((e: unknown) => e);
      expect(isFerryError(error, 'FERRY_E_PORT_IN_USE')).toBe(true);
      expect((error as Error).message).toContain(`metrics.listen: cannot listen on 127.0.0.1:${port}`);
    } finally {
      taken.close();
    }
  });
});
