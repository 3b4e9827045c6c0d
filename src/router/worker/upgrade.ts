import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Backend } from './backend.js';
import { endConnection, plainReply } from './client-replies.js';
import { relayResponseHeaders, upstreamRequestHeaders } from './headers.js';
import { peerOf } from './peer.js';
import type { RequestOutcomeCounter } from './request-outcomes.js';
import type { BackendWaiter, Route } from './route.js';
import type { RouteSettings } from './route-settings.js';

/**
 * Passes an Upgrade request (WebSocket) to a backend chosen like any request. Only a 101 answer turns
 * the connection into a tunnel, both sockets piped; any other answer is relayed as one response and
 * the client connection is closed, so nothing after it bypasses the router. The handshake (connect
 * and answer) is bounded by the route's upgrade timeout (504). The backend counts the handshake as in
 * flight until it answers: a long-lived tunnel must not keep a drain waiting; it ends when the old
 * instance stops.
 */
export function forwardUpgrade(route: Route, req: IncomingMessage, client: Duplex, head: Buffer): void {
  new UpgradeExchange(route, req, client, head).start();
}

/** One try on one backend. */
interface Attempt {
  readonly backend: Backend;
  readonly upstream: ClientRequest;
  connected: boolean;
  /** A response (101 or other) began. */
  answered: boolean;
  /** Counted out of the backend's in-flight requests. */
  settled: boolean;
}

class UpgradeExchange implements BackendWaiter {
  readonly deadline: number;
  excluded: Set<Backend> | undefined;
  holdRetries = 0;
  holdTimer: NodeJS.Timeout | undefined;
  private readonly settings: RouteSettings;
  private readonly headers: string[] | null;
  private attempt: Attempt | undefined;
  private handshakeTimer: NodeJS.Timeout | undefined;
  /** The client was answered, the tunnel is up, or the client went away: nothing more to decide. */
  private decided = false;
  /** The release of the last backend tried, for a timeout that finds no attempt running. */
  private lastRelease: string | undefined;
  private counted = false;

  constructor(
    private readonly route: Route,
    private readonly req: IncomingMessage,
    private readonly client: Duplex,
    private readonly head: Buffer,
  ) {
    this.settings = route.settings;
    this.deadline = Date.now() + this.settings.holdTimeoutMs;
    this.headers = upstreamRequestHeaders(req, peerOf(req.socket), true);
  }

  start(): void {
    this.client.on('error', () => this.client.destroy());
    this.client.once('close', () => {
      if (!this.decided) this.count((outcomes) => outcomes.gone());
      this.decided = true;
      this.clearHandshakeTimer();
      this.route.release(this);
      const attempt = this.attempt;
      if (attempt !== undefined) {
        this.settle(attempt);
        attempt.upstream.destroy();
      }
    });
    if (this.headers === null) {
      this.count((outcomes) => outcomes.refused());
      this.answer(400, 'the request has more than one Host header');
      return;
    }
    this.route.acquire(this);
  }

  grant(backend: Backend): void {
    if (this.decided) return;
    // From the first connect on, across retries on other backends; a wait for one is the hold's.
    if (this.handshakeTimer === undefined && this.settings.upgradeTimeoutMs > 0) {
      this.handshakeTimer = setTimeout(() => this.timedOut(), this.settings.upgradeTimeoutMs);
    }
    backend.begin();
    this.lastRelease = backend.release;
    const socket = connect({ host: backend.host, port: backend.port });
    const upstream = httpRequest({
      method: this.req.method,
      path: this.req.url,
      headers: this.headers!,
      createConnection: () => socket,
    });
    const attempt: Attempt = { backend, upstream, connected: false, answered: false, settled: false };
    this.attempt = attempt;
    const connectTimeoutMs = this.settings.connectTimeoutMs;
    if (connectTimeoutMs > 0) {
      socket.setTimeout(connectTimeoutMs, () =>
        socket.destroy(new Error(`no connection within ${connectTimeoutMs}ms`)),
      );
    }
    socket.once('connect', () => {
      attempt.connected = true;
      socket.setTimeout(0);
      socket.setNoDelay(true);
    });
    upstream.on('upgrade', (res: IncomingMessage, tunnel: Socket, tunnelHead: Buffer) =>
      this.tunnel(attempt, res, tunnel, tunnelHead),
    );
    upstream.on('response', (res: IncomingMessage) => this.relay(attempt, res));
    upstream.on('error', (error) => this.failed(attempt, error));
    upstream.end();
  }

  expire(): void {
    if (!this.decided) this.count((outcomes) => outcomes.expired());
    this.answer(
      503,
      `no usable backend for route ${this.route.name} within ${this.settings.holdTimeoutMs}ms`,
    );
  }

  /** The backend switched protocols: from now on the two sockets are piped as they are. */
  private tunnel(attempt: Attempt, res: IncomingMessage, tunnel: Socket, tunnelHead: Buffer): void {
    attempt.answered = true;
    this.clearHandshakeTimer();
    attempt.backend.recordResponse(101, Date.now());
    this.settle(attempt);
    const client = this.client;
    if (this.decided) {
      tunnel.destroy();
      return;
    }
    this.decided = true;
    this.count((outcomes) => outcomes.answered(attempt.backend.release, 101));
    // The 101's headers go through as they are: its Connection and Upgrade are the point of it.
    let responseHead = `HTTP/1.1 101 ${res.statusMessage}\r\n`;
    const raw = res.rawHeaders;
    for (let i = 0; i + 1 < raw.length; i += 2) responseHead += `${raw[i]}: ${raw[i + 1]}\r\n`;
    client.write(`${responseHead}\r\n`, 'latin1');
    if (tunnelHead.length > 0) client.write(tunnelHead);
    if (this.head.length > 0) tunnel.write(this.head);
    tunnel.setNoDelay(true);
    tunnel.on('error', () => tunnel.destroy());
    tunnel.once('close', () => client.destroy());
    client.once('close', () => tunnel.destroy());
    tunnel.pipe(client);
    client.pipe(tunnel);
  }

  /** The backend answered without switching protocols: relay that one response, then close. */
  private relay(attempt: Attempt, res: IncomingMessage): void {
    attempt.answered = true;
    this.clearHandshakeTimer();
    const status = res.statusCode ?? 502;
    attempt.backend.recordResponse(status, Date.now());
    res.once('close', () => {
      this.settle(attempt);
      // Cut off (idle timeout, backend gone): the client cannot be told otherwise.
      if (!res.complete) {
        this.count((outcomes) => outcomes.failed(attempt.backend.release, 'reset'));
        this.client.destroy();
      }
    });
    if (this.decided) {
      res.destroy();
      return;
    }
    this.decided = true;
    const client = this.client;
    const headers = relayResponseHeaders(res.rawHeaders);
    let responseHead = `HTTP/1.1 ${status} ${res.statusMessage ?? ''}\r\n`;
    let hasLength = false;
    for (let i = 0; i + 1 < headers.length; i += 2) {
      responseHead += `${headers[i]}: ${headers[i + 1]}\r\n`;
      if (headers[i]!.toLowerCase() === 'content-length') hasLength = true;
    }
    const hasBody = this.req.method !== 'HEAD' && status !== 204 && status !== 304;
    // Node's client has taken the backend's framing off the body; without a length it is re-chunked.
    const chunked = hasBody && !hasLength;
    if (chunked) responseHead += 'Transfer-Encoding: chunked\r\n';
    client.write(`${responseHead}Connection: close\r\n\r\n`, 'latin1');
    const idleTimeoutMs = this.settings.idleTimeoutMs;
    if (idleTimeoutMs > 0) res.socket.setTimeout(idleTimeoutMs, () => res.destroy());
    res.on('data', (chunk: Buffer) => {
      let flushed: boolean;
      if (chunked) {
        client.write(`${chunk.length.toString(16)}\r\n`);
        client.write(chunk);
        flushed = client.write('\r\n');
      } else {
        flushed = client.write(chunk);
      }
      if (!flushed && !res.isPaused()) {
        res.pause();
        client.once('drain', () => res.resume());
      }
    });
    res.once('end', () => {
      this.count((outcomes) => outcomes.answered(attempt.backend.release, status));
      endConnection(client, chunked ? '0\r\n\r\n' : undefined);
    });
    res.on('error', () => client.destroy());
  }

  private failed(attempt: Attempt, error: Error): void {
    this.settle(attempt);
    if (this.attempt !== attempt) return;
    this.attempt = undefined;
    if (attempt.answered) {
      // The response broke off halfway: the client cannot be told otherwise.
      this.count((outcomes) => outcomes.failed(attempt.backend.release, 'reset'));
      this.client.destroy();
      return;
    }
    if (this.decided) return;
    const { backend } = attempt;
    backend.recordFailure(attempt.connected ? 'reset' : 'connect', Date.now());
    if (!attempt.connected) {
      // Nothing was sent: try another backend (or hold).
      (this.excluded ??= new Set()).add(backend);
      this.route.acquire(this);
      return;
    }
    this.count((outcomes) => outcomes.failed(backend.release, 'reset'));
    this.answer(502, `backend ${backend.id} failed during the upgrade: ${error.message}`);
  }

  private timedOut(): void {
    this.handshakeTimer = undefined;
    if (this.decided) return;
    this.route.release(this);
    const attempt = this.attempt;
    this.attempt = undefined;
    if (attempt !== undefined) {
      attempt.backend.recordFailure('timeout', Date.now());
      this.settle(attempt);
      attempt.upstream.destroy();
    }
    const release = attempt?.backend.release ?? this.lastRelease;
    this.count((outcomes) =>
      release === undefined ? outcomes.expired() : outcomes.failed(release, 'timeout'),
    );
    this.answer(504, `no answer to the upgrade within ${this.settings.upgradeTimeoutMs}ms`);
  }

  private answer(status: number, message: string): void {
    if (this.decided) return;
    this.decided = true;
    this.clearHandshakeTimer();
    endConnection(this.client, plainReply(status, message));
  }

  /** Records how the exchange ended in the route's outcomes; only the first call counts. */
  private count(record: (outcomes: RequestOutcomeCounter) => void): void {
    if (this.counted) return;
    this.counted = true;
    record(this.route.outcomes);
  }

  private settle(attempt: Attempt): void {
    if (attempt.settled) return;
    attempt.settled = true;
    attempt.backend.finish();
  }

  private clearHandshakeTimer(): void {
    if (this.handshakeTimer === undefined) return;
    clearTimeout(this.handshakeTimer);
    this.handshakeTimer = undefined;
  }
}
