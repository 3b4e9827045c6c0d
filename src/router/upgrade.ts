import type { IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Backend } from './backend.js';
import { upgradeRequestHead, upstreamRequestHeaders } from './headers.js';
import type { BackendWaiter, Route } from './route.js';

const CONNECT_TIMEOUT_MS = 3000;
const STATUS_LINE = /^HTTP\/\d\.\d (\d{3})/;

/**
 * Passes an Upgrade request (WebSocket) through to a backend chosen like any request, then pipes the
 * two sockets. The backend counts it as in flight only until it answers the handshake: a long-lived
 * tunnel must not keep a drain waiting; it ends when the old instance stops.
 */
export function forwardUpgrade(route: Route, req: IncomingMessage, client: Duplex, head: Buffer): void {
  new UpgradeTunnel(route, req, client, head).start();
}

class UpgradeTunnel implements BackendWaiter {
  readonly deadline: number;
  excluded: Set<Backend> | undefined;
  holdRetries = 0;
  holdTimer: NodeJS.Timeout | undefined;
  private upstream: Socket | undefined;
  private clientGone = false;

  constructor(
    private readonly route: Route,
    private readonly req: IncomingMessage,
    private readonly client: Duplex,
    private readonly head: Buffer,
  ) {
    this.deadline = Date.now() + route.holdTimeoutMs;
  }

  start(): void {
    this.client.on('error', () => this.client.destroy());
    this.client.once('close', () => {
      this.clientGone = true;
      this.route.release(this);
      this.upstream?.destroy();
    });
    this.route.acquire(this);
  }

  grant(backend: Backend): void {
    if (this.clientGone) return;
    backend.begin();
    let connected = false;
    let answered = false;
    const finish = (): void => {
      if (answered) return;
      answered = true;
      backend.finish();
    };
    const upstream = connect({ host: backend.host, port: backend.port });
    this.upstream = upstream;
    upstream.setTimeout(CONNECT_TIMEOUT_MS, () => upstream.destroy(new Error('connect timeout')));
    upstream.once('connect', () => {
      connected = true;
      upstream.setTimeout(0);
      upstream.setNoDelay(true);
      upstream.write(upgradeRequestHead(this.req, upstreamRequestHeaders(this.req, true)));
      if (this.head.length > 0) upstream.write(this.head);
      this.client.pipe(upstream);
    });
    upstream.once('data', (chunk: Buffer) => {
      const status = STATUS_LINE.exec(chunk.toString('latin1', 0, Math.min(chunk.length, 64)));
      backend.recordResponse(status === null ? 502 : Number(status[1]), Date.now());
      finish();
      upstream.pause();
      this.client.write(chunk);
      upstream.pipe(this.client);
    });
    const fail = (): void => {
      if (answered || this.clientGone || this.upstream !== upstream) return;
      finish();
      this.upstream = undefined;
      backend.recordFailure(connected ? 'reset' : 'connect', Date.now());
      if (!connected) {
        // Nothing was sent: try another backend (or hold).
        (this.excluded ??= new Set()).add(backend);
        this.route.acquire(this);
        return;
      }
      this.replyAndClose(502, `backend ${backend.id} failed during the upgrade`);
    };
    upstream.on('error', fail);
    upstream.once('close', () => {
      fail();
      finish();
      if (this.upstream === upstream) this.client.destroy();
    });
  }

  expire(): void {
    this.replyAndClose(
      503,
      `no usable backend for route ${this.route.name} within ${this.route.holdTimeoutMs}ms`,
    );
  }

  private replyAndClose(status: number, message: string): void {
    if (this.clientGone) return;
    const body = `ferry router: ${message}\n`;
    const reason = status === 503 ? 'Service Unavailable' : 'Bad Gateway';
    this.client.end(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
}
