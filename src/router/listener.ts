import { createServer, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { FerryError } from '../errors/ferry-error.js';
import { ConnectionDrain } from './drain.js';
import { forwardRequest } from './forward.js';
import type { SocketHandle } from './listen-socket.js';
import type { Route } from './route.js';
import type { ListenAddress } from './types.js';
import { forwardUpgrade } from './upgrade.js';
import { errorCode } from './upstream-failure.js';

/** Longer than the idle timeout of the usual load balancers (60s) in front, so they close first. */
const CLIENT_KEEP_ALIVE_TIMEOUT_MS = 65_000;
const HEADERS_TIMEOUT_MS = 66_000;

/** The HTTP server of one route on its listen address. */
export class RouteListener {
  private readonly server: Server;
  private readonly connections: ConnectionDrain;
  /** Upgraded (WebSocket) client sockets: the HTTP server no longer tracks them, but close() must. */
  private readonly tunnels = new Set<Duplex>();

  constructor(
    route: Route,
    private readonly onError: (error: Error) => void,
  ) {
    this.server = createServer(
      { keepAliveTimeout: CLIENT_KEEP_ALIVE_TIMEOUT_MS, headersTimeout: HEADERS_TIMEOUT_MS },
      (req, res) => {
        // Requests that arrive while this listener closes get their answer, then the connection ends.
        this.connections.track(req, res);
        forwardRequest(route, req, res);
      },
    );
    this.connections = new ConnectionDrain(this.server);
    this.server.on('upgrade', (req, socket: Duplex, head: Buffer) => {
      this.connections.forget(socket);
      this.tunnels.add(socket);
      socket.once('close', () => this.tunnels.delete(socket));
      forwardUpgrade(route, req, socket, head);
    });
    this.server.on('clientError', (error, socket) => answerClientError(error, socket));
  }

  /** Starts listening; a taken port fails with FERRY_E_PORT_IN_USE naming host:port. */
  listen(address: ListenAddress): Promise<void> {
    return new Promise((resolve, reject) => {
      const onListenError = (error: Error): void => reject(listenError(address, error));
      this.server.once('error', onListenError);
      this.server.listen({ host: address.host, port: address.port }, () => {
        this.server.off('error', onListenError);
        this.server.on('error', (error) => this.onError(error));
        resolve();
      });
    });
  }

  /** Accepts on a listening socket the keeper holds (a worker's listener). */
  listenOn(handle: SocketHandle): Promise<void> {
    return new Promise((resolve, reject) => {
      const onListenError = (error: Error): void => reject(error);
      this.server.once('error', onListenError);
      this.server.listen(handle, () => {
        this.server.off('error', onListenError);
        this.server.on('error', (error) => this.onError(error));
        resolve();
      });
    });
  }

  /**
   * Stops accepting, lets requests in flight finish (a client's connection closes after its next
   * response, an idle one after a moment) and resolves when all are done, or cuts the rest after graceMs.
   */
  close(graceMs: number): Promise<void> {
    return this.connections.drain(graceMs, () => {
      for (const tunnel of this.tunnels) tunnel.destroy();
    });
  }
}

function listenError(address: ListenAddress, error: Error): FerryError {
  const where = `${address.host}:${address.port}`;
  const code = errorCode(error);
  if (code === 'EADDRINUSE') {
    return new FerryError(
      'FERRY_E_PORT_IN_USE',
      `listen address ${where}: expected a free port, got one already in use by another process`,
      { where, expected: 'a free port', got: 'in use' },
      { cause: error },
    );
  }
  return new FerryError(
    'FERRY_E_USAGE',
    `listen address ${where}: expected an address this host can listen on, got ${code ?? error.message}`,
    { where },
    { cause: error },
  );
}

function answerClientError(error: Error, socket: Duplex): void {
  if (!socket.writable || errorCode(error) === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
}
