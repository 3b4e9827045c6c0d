import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { FerryError } from '../../errors/ferry-error.js';
import { answerClientError, closeIdleClient, refuseConnection } from './client-replies.js';
import type { ConnectionRefusal } from './connection-limits.js';
import { ConnectionDrain } from './drain.js';
import { forwardRequest } from './forward.js';
import type { SocketHandle } from '../keeper/listen-socket.js';
import { identifyPeer } from './peer.js';
import type { Route } from './route.js';
import type { RouteSettings } from './route-settings.js';
import type { ListenAddress } from '../types.js';
import { forwardUpgrade } from './upgrade.js';
import { errorCode } from './upstream-failure.js';

/** Longer than the idle timeout of the usual load balancers (60s) in front, so they close first. */
const CLIENT_KEEP_ALIVE_TIMEOUT_MS = 65_000;
/** Refused connections are logged as one summary per window, not one line each (a flood would flood). */
const REFUSAL_LOG_WINDOW_MS = 10_000;

type ConnectionListener = (this: Server, socket: Socket) => void;

/** The HTTP server of one route on its listen address. */
export class RouteListener {
  private readonly server: Server;
  private readonly connections: ConnectionDrain;
  /** Upgraded (WebSocket) client sockets: the HTTP server no longer tracks them, but close() must. */
  private readonly tunnels = new Set<Duplex>();
  /** The route settings last copied onto the server. */
  private applied: RouteSettings | undefined;
  /** Refusals counted since the last one logged, while a log window is open. */
  private refusalsUnlogged: Map<ConnectionRefusal, number> | undefined;

  constructor(
    private readonly route: Route,
    private readonly onError: (error: Error) => void,
  ) {
    const settings = route.settings;
    this.server = createServer(
      {
        keepAliveTimeout: CLIENT_KEEP_ALIVE_TIMEOUT_MS,
        ...clientTimeouts(settings),
        maxHeaderSize: settings.maxHeaderBytes,
        connectionsCheckingInterval: checkingIntervalFor(settings),
      },
      (req, res) => {
        // Requests that arrive while this listener closes get their answer, then the connection ends.
        this.connections.track(req, res);
        forwardRequest(route, req, res);
      },
    );
    this.applySettings(settings);
    // The HTTP server's own connection listener attaches its parser; it runs only for connections
    // within the route's limits, so a refused one costs no parser and gets no request through.
    const parseHttp = this.server.listeners('connection') as ConnectionListener[];
    if (parseHttp.length !== 1) throw new Error('expected the HTTP server to have one connection listener');
    this.server.removeAllListeners('connection');
    this.server.on('connection', (socket: Socket) => {
      if (this.admit(socket)) parseHttp[0]!.call(this.server, socket);
    });
    // After the swap above: it tracks every connection, to close them gently when draining.
    this.connections = new ConnectionDrain(this.server);
    this.server.on('upgrade', (req, socket: Duplex, head: Buffer) => {
      this.connections.forget(socket);
      // A tunnel lives as long as its two ends: no idle timeout (WebSocket apps ping on their own).
      (socket as Socket).setTimeout(0);
      this.tunnels.add(socket);
      socket.once('close', () => this.tunnels.delete(socket));
      forwardUpgrade(route, req, socket, head);
    });
    this.server.on('clientError', (error, socket) => answerClientError(error, socket));
    // Registered so that Node does not destroy on its own: a request waiting for its response is not idle.
    this.server.on('timeout', (socket: Socket) => closeIdleClient(socket));
  }

  /**
   * Decides on a new connection: who its peer is (kept on the socket for its requests) and whether the
   * route's connection limits let it in. A refused one is answered at once and closed.
   */
  private admit(socket: Socket): boolean {
    const settings = this.route.settings;
    if (settings !== this.applied) this.applySettings(settings);
    const peer = identifyPeer(socket, settings.trustedProxies);
    const connections = this.route.connections;
    const refusal = connections.admit(peer, settings);
    if (refusal !== undefined) {
      refuseConnection(socket, refusal);
      this.logRefusal(refusal);
      return false;
    }
    socket.once('close', () => connections.release(peer));
    return true;
  }

  /** Copies the route's client settings onto the server; they apply to new connections and checks. */
  private applySettings(settings: RouteSettings): void {
    const server = this.server as Server & { maxHeaderSize: number };
    const { headersTimeout, requestTimeout } = clientTimeouts(settings);
    server.headersTimeout = headersTimeout;
    server.requestTimeout = requestTimeout;
    server.maxHeaderSize = settings.maxHeaderBytes;
    // The socket inactivity timeout, restored by Node whenever a request begins.
    server.timeout = settings.idleTimeoutMs;
    this.applied = settings;
  }

  /** The first refusal is logged at once; those after it are summed up once per window. */
  private logRefusal(refusal: ConnectionRefusal): void {
    const unlogged = this.refusalsUnlogged;
    if (unlogged !== undefined) {
      unlogged.set(refusal, (unlogged.get(refusal) ?? 0) + 1);
      return;
    }
    this.onError(new Error(`route ${this.route.name} refused a connection over ${this.limitName(refusal)}`));
    const counts = new Map<ConnectionRefusal, number>();
    this.refusalsUnlogged = counts;
    const timer = setTimeout(() => {
      this.refusalsUnlogged = undefined;
      if (counts.size === 0) return;
      const parts = [...counts].map(([limit, count]) => `${count} over ${this.limitName(limit)}`);
      this.onError(
        new Error(
          `route ${this.route.name} refused more connections in ${REFUSAL_LOG_WINDOW_MS / 1000}s: ${parts.join(', ')}`,
        ),
      );
    }, REFUSAL_LOG_WINDOW_MS);
    timer.unref();
  }

  private limitName(refusal: ConnectionRefusal): string {
    const settings = this.route.settings;
    return refusal === 'max-connections'
      ? `max_connections (${settings.maxConnections})`
      : `max_connections_per_client (${settings.maxConnectionsPerClient})`;
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

/** Node refuses a headers timeout longer than the request timeout; the shorter one wins anyway. */
function clientTimeouts(settings: RouteSettings): { headersTimeout: number; requestTimeout: number } {
  const { headerTimeoutMs, requestTimeoutMs } = settings;
  const headersTimeout =
    requestTimeoutMs > 0 && headerTimeoutMs > requestTimeoutMs ? requestTimeoutMs : headerTimeoutMs;
  return { headersTimeout, requestTimeout: requestTimeoutMs };
}

/**
 * How often the server looks for clients past their header or request timeout: a quarter of the
 * shorter one, within 100 ms - 1 s, so a 408 comes at most a quarter late.
 */
function checkingIntervalFor(settings: RouteSettings): number {
  const { headersTimeout, requestTimeout } = clientTimeouts(settings);
  const shortest = Math.min(headersTimeout || Infinity, requestTimeout || Infinity);
  return Math.min(1000, Math.max(100, Math.floor(shortest / 4)));
}
