import net from 'node:net';

/**
 * A TCP port that is free on `host` right now, chosen by the kernel (bind to port 0). Another
 * process may take it before the instance binds it; the instance then fails to bind and never
 * becomes healthy, so the failure shows rather than hides.
 */
export function allocatePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error(`no port was assigned on ${host}`))));
    });
  });
}
