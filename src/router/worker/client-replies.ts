import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ConnectionRefusal } from './connection-limits.js';
import { errorCode } from './upstream-failure.js';

/**
 * How long a connection the router closes after its last answer may stay open for the client to read
 * that answer. Destroying it at once would reset it (RST) if the client's request is still unread,
 * which can make the client lose the answer; waiting for the client forever would let it hold a file
 * descriptor.
 */
const LINGER_MS = 1000;

/** A complete small plain-text response that closes the connection, for a raw client socket. */
export function plainReply(status: number, message: string): string {
  const body = `ferry router: ${message}\n`;
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n${body}`
  );
}

/** Writes the last bytes of a connection, then closes it once the client did, or after LINGER_MS. */
export function endConnection(socket: Duplex, last?: string): void {
  socket.on('error', () => socket.destroy());
  if (socket.writable) socket.end(last);
  if (socket.destroyed) return;
  const linger = setTimeout(() => socket.destroy(), LINGER_MS);
  linger.unref();
  socket.once('close', () => clearTimeout(linger));
  socket.once('end', () => socket.destroy());
}

const REFUSALS: Record<ConnectionRefusal, string> = {
  'max-connections': plainReply(503, 'too many connections to this app'),
  'max-connections-per-client': plainReply(429, 'too many connections from this address'),
};

/**
 * Answers a connection over a limit at once and closes it, so that it holds a file descriptor for
 * moments only. The HTTP parser was never attached: whatever the client sends is read and dropped.
 */
export function refuseConnection(socket: Socket, refusal: ConnectionRefusal): void {
  socket.resume();
  endConnection(socket, REFUSALS[refusal]);
}

const CLIENT_ERROR_REPLIES = new Map([
  ['ERR_HTTP_REQUEST_TIMEOUT', plainReply(408, 'the request was not received in time')],
  ['HPE_HEADER_OVERFLOW', plainReply(431, 'the request headers are too large')],
  ['HPE_CHUNK_EXTENSIONS_OVERFLOW', plainReply(413, 'the request chunk extensions are too large')],
]);
const BAD_REQUEST = plainReply(400, 'the request is not valid HTTP');

/**
 * Answers what Node's HTTP server reports as a client error: 408 for a client too slow to send its
 * headers or its whole request, 431 for headers over the size limit, 400 for anything unparsable.
 * Nothing is written if a response has already begun on the connection: that would corrupt it.
 */
export function answerClientError(error: Error, socket: Duplex): void {
  const response = (socket as { _httpMessage?: ServerResponse | null })._httpMessage;
  if (errorCode(error) === 'ECONNRESET' || !socket.writable || response?.headersSent === true) {
    socket.destroy();
    return;
  }
  endConnection(socket, CLIENT_ERROR_REPLIES.get(errorCode(error) ?? '') ?? BAD_REQUEST);
}

/**
 * The HTTP server's inactivity timeout fired (no byte moved on the connection for the route's idle
 * timeout): the connection is closed, unless its request is complete and waits for the backend's
 * response headers, which the response timeout bounds.
 */
export function closeIdleClient(socket: Socket): void {
  const response = (socket as { _httpMessage?: ServerResponse | null })._httpMessage;
  if (response != null && !response.headersSent && response.req.complete) return;
  socket.destroy();
}
