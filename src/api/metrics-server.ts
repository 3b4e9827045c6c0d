import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { FerryError, messageOf } from '../errors/ferry-error.js';
import type { ListenAddress } from '../config/fields.js';

export interface MetricsServer {
  /** Where it listens (the port the system chose when the config said 0). */
  readonly address: ListenAddress;
  close(): Promise<void>;
}

/**
 * `metrics.listen`: GET /metrics for Prometheus scrapers, without a token, on an address of its own
 * (the API's routes stay behind the token). Nothing else is served there.
 */
export async function listenMetrics(
  metrics: { exposition(): Promise<{ contentType: string; text: string }> },
  listen: ListenAddress,
): Promise<MetricsServer> {
  const server = http.createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      response.end('only GET /metrics is served here\n');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
      response.end('GET /metrics\n');
      return;
    }
    metrics.exposition().then(
      ({ contentType, text }) => {
        response.writeHead(200, { 'content-type': contentType });
        response.end(request.method === 'HEAD' ? undefined : text);
      },
      (error: unknown) => {
        response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        response.end(`metrics could not be collected: ${messageOf(error)}\n`);
      },
    );
  });
  // A scraper keeps its connection open; closing must not wait for it.
  server.keepAliveTimeout = 5_000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(listen.port, listen.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    throw new FerryError(
      'FERRY_E_PORT_IN_USE',
      `metrics.listen: cannot listen on ${listen.host}:${listen.port}: ${messageOf(error)}`,
      { where: `${listen.host}:${listen.port}` },
      { cause: error },
    );
  }
  const { port } = server.address() as AddressInfo;
  return {
    address: { host: listen.host, port },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
