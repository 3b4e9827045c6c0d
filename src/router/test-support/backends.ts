import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { spawn } from 'node:child_process';
import { connect, createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { requireProgram } from '../../lib/test-support/required-program.js';

export interface TestBackend {
  readonly name: string;
  readonly port: number;
  readonly server: Server;
  /** Requests this server received. */
  received: number;
  /** Graceful: stops accepting, closes idle connections, resolves when all are gone. */
  close(): Promise<void>;
  /** Abrupt: drops every connection at once, as a crashing process would. */
  kill(): Promise<void>;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, backend: TestBackend) => void;

/** Answers with the backend's name and what it saw of the request, as JSON. */
export const echoRequest: Handler = (req, res, backend) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const body = JSON.stringify({
      backend: backend.name,
      method: req.method,
      url: req.url,
      headers: req.headers,
      bodyBytes: Buffer.concat(chunks).length,
    });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
};

/**
 * A tiny node:http backend on 127.0.0.1 (port 0 unless given); with `webSocketEcho`, it also echoes
 * WebSocket text frames; `onUpgrade` takes Upgrade requests instead. Without either, an Upgrade
 * request is an ordinary request to the handler (as for an app that knows nothing of WebSockets).
 */
export async function startBackend(
  name: string,
  opts: {
    handler?: Handler;
    webSocketEcho?: boolean;
    onUpgrade?: (req: IncomingMessage, socket: Duplex) => void;
    port?: number;
    latencyMs?: number;
  } = {},
): Promise<TestBackend> {
  const latencyMs = opts.latencyMs ?? 0;
  // Simulated work, so that requests are really in flight while traffic moves.
  const handler: Handler =
    latencyMs > 0
      ? (req, res, self) => setTimeout(() => (opts.handler ?? echoRequest)(req, res, self), latencyMs)
      : (opts.handler ?? echoRequest);
  const server = createServer();
  // Upgraded sockets are no longer the HTTP server's: kill() must end them itself.
  const upgraded = new Set<Duplex>();
  const track = (socket: Duplex): void => {
    upgraded.add(socket);
    socket.once('close', () => upgraded.delete(socket));
  };
  const backend: TestBackend = {
    name,
    port: 0,
    server,
    received: 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
    kill: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const socket of upgraded) socket.destroy();
      }),
  };
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    backend.received += 1;
    handler(req, res, backend);
  });
  // Only with a listener does Node treat an Upgrade request as one (else it is an ordinary request).
  const onUpgrade = opts.onUpgrade ?? (opts.webSocketEcho === true ? acceptWebSocketEcho : undefined);
  if (onUpgrade !== undefined) {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
      track(socket);
      onUpgrade(req, socket);
    });
  }
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  (backend as { port: number }).port = (server.address() as AddressInfo).port;
  return backend;
}

/** Just enough RFC 6455 for one-frame text messages: handshake, then echo each frame back unmasked. */
function acceptWebSocketEcho(req: IncomingMessage, socket: Duplex): void {
  const key = req.headers['sec-websocket-key'] ?? '';
  const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
  socket.on('error', () => socket.destroy());
  socket.write(
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
  );
  socket.on('data', (frame: Buffer) => {
    const opcode = frame[0]! & 0x0f;
    const length = frame[1]! & 0x7f;
    if (opcode === 0x8 || length > 125) {
      socket.end(Buffer.from([0x88, 0x00]));
      return;
    }
    const mask = frame.subarray(2, 6);
    const payload = Buffer.from(frame.subarray(6, 6 + length).map((byte, i) => byte ^ mask[i % 4]!));
    socket.write(Buffer.concat([Buffer.from([0x81, length]), payload]));
  });
}

export interface ResettingBackend {
  readonly name: string;
  readonly port: number;
  /** The method of every request that arrived whole, in order. */
  readonly arrivals: string[];
  close(): Promise<void>;
}

/**
 * A backend that reads each request whole (headers and Content-Length body), then resets the
 * connection without answering: the request certainly reached it, and the router cannot know
 * whether it was acted on.
 */
export async function startResettingBackend(name: string): Promise<ResettingBackend> {
  const arrivals: string[] = [];
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let received = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = received.subarray(0, end).toString('latin1');
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
      if (received.length < end + 4 + length) return;
      arrivals.push(head.slice(0, head.indexOf(' ')));
      socket.resetAndDestroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    name,
    port: (server.address() as AddressInfo).port,
    arrivals,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * A backend whose listen queue is full: it listens with a backlog of one and never accepts, and
 * its queue is filled, so a new connection's SYN is dropped and connecting hangs until the
 * client's connect timeout (what a frozen host looks like). Python, since a Node server always
 * accepts. `close()` ends it.
 */
export async function startUnreachableBackend(
  name: string,
): Promise<{ name: string; port: number; close(): Promise<void> }> {
  const script = [
    'import socket, sys, time',
    's = socket.socket()',
    "s.bind(('127.0.0.1', 0))",
    's.listen(0)',
    'print(s.getsockname()[1], flush=True)',
    'sys.stdin.read()',
  ].join('\n');
  requireProgram('python3');
  const child = spawn('python3', ['-c', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
  });
  // Fill the accept queue (a backlog of 0 holds one): this connection completes its handshake and
  // waits there, never accepted; every SYN after it is dropped.
  const filler = connect(port, '127.0.0.1');
  filler.on('error', () => undefined);
  await new Promise((resolve) => filler.once('connect', resolve));
  const fillers = [filler];
  return {
    name,
    port,
    close: async () => {
      for (const socket of fillers) socket.destroy();
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.stdin.end();
      child.kill();
      await exited;
    },
  };
}
