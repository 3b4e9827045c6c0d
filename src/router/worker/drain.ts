import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Server as NetServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/** While draining, a keep-alive connection idle this long is closed (its client is not mid-send). */
const IDLE_CLOSE_MS = 1_000;
const SWEEP_MS = 100;

interface Connection {
  /** Requests in flight on it. */
  busy: number;
  /** When its last response ended (stamped while draining only). */
  idleSince: number | undefined;
}

/**
 * A listener's client connections, so that it can stop without failing a request. Closing every
 * idle keep-alive connection at once (what http.Server#close does) races a client that is sending
 * its next request on one at that moment: that request fails. Instead, while draining, every
 * response says `Connection: close`, so a busy client moves to a new connection (on another worker,
 * or a successor router), and a connection is closed only once it has been idle for a second.
 */
export class ConnectionDrain {
  private readonly connections = new Map<Socket, Connection>();
  private drainStarted: number | undefined;

  constructor(private readonly server: Server) {
    server.on('connection', (socket: Socket) => {
      this.connections.set(socket, { busy: 0, idleSince: undefined });
      socket.once('close', () => this.connections.delete(socket));
    });
  }

  get draining(): boolean {
    return this.drainStarted !== undefined;
  }

  /** Call for every request: counts it in flight on its connection until its response closes. */
  track(req: IncomingMessage, res: ServerResponse): void {
    const connection = this.connections.get(req.socket);
    if (this.drainStarted !== undefined) res.shouldKeepAlive = false;
    if (connection === undefined) return;
    connection.busy += 1;
    res.once('close', () => {
      connection.busy -= 1;
      if (this.drainStarted !== undefined) connection.idleSince = Date.now();
    });
  }

  /** An upgraded socket is no longer the HTTP server's: the caller tracks it as a tunnel. */
  forget(socket: Duplex): void {
    this.connections.delete(socket as Socket);
  }

  /**
   * Stops accepting, lets requests in flight finish and idle connections go (see above), and
   * resolves when every connection is gone; the rest is cut after graceMs (`cut` also ends tunnels).
   */
  drain(graceMs: number, cut: () => void): Promise<void> {
    this.drainStarted ??= Date.now();
    return new Promise((resolve) => {
      const sweep = setInterval(() => this.closeIdle(), SWEEP_MS);
      const deadline = setTimeout(() => {
        this.server.closeAllConnections();
        cut();
      }, graceMs);
      const done = (): void => {
        clearInterval(sweep);
        clearTimeout(deadline);
        // http.Server#close also clears its timeout checker; net.Server's close (used above) does not.
        this.server.close(() => resolve());
      };
      if (!this.server.listening) {
        this.server.closeAllConnections();
        cut();
        clearInterval(sweep);
        clearTimeout(deadline);
        resolve();
        return;
      }
      // net.Server's close: stop accepting without http.Server's immediate close of idle connections.
      NetServer.prototype.close.call(this.server, done);
      this.closeIdle();
    });
  }

  private closeIdle(): void {
    const now = Date.now();
    for (const [socket, connection] of this.connections) {
      if (connection.busy > 0) continue;
      const idleSince = connection.idleSince ?? this.drainStarted ?? now;
      if (now - idleSince >= IDLE_CLOSE_MS) socket.destroy();
    }
  }
}
