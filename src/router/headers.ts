import type { IncomingMessage } from 'node:http';

/** Headers that describe one connection, not the message (RFC 9110 7.6.1), never forwarded as they are. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * The request headers to send upstream, as a flat [name, value, ...] list: hop-by-hop headers (and
 * those the Connection header names) removed, Host kept, X-Forwarded-* added. An upgrade keeps its
 * Connection and Upgrade headers, since they are the point of the request.
 */
export function upstreamRequestHeaders(req: IncomingMessage, isUpgrade: boolean): string[] {
  const raw = req.rawHeaders;
  const listed = connectionTokens(req.headers.connection);
  const headers: string[] = [];
  const forwardedFor: string[] = [];
  let hasProto = false;
  let hasForwardedHost = false;
  let hasHost = false;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    const lower = name.toLowerCase();
    if (lower === 'x-forwarded-for') {
      forwardedFor.push(value);
      continue;
    }
    if (isUpgrade && (lower === 'connection' || lower === 'upgrade')) {
      headers.push(name, value);
      continue;
    }
    // Node has already answered "Expect: 100-continue"; the upstream client refuses to send it.
    if (HOP_BY_HOP.has(lower) || lower === 'expect' || listed?.has(lower)) continue;
    if (lower === 'host') {
      if (hasHost) continue;
      hasHost = true;
    }
    if (lower === 'x-forwarded-proto') hasProto = true;
    if (lower === 'x-forwarded-host') hasForwardedHost = true;
    headers.push(name, value);
  }
  forwardedFor.push(clientAddress(req));
  headers.push('x-forwarded-for', forwardedFor.join(', '));
  // Kept when present: a TLS terminator in front of the router knows the real scheme and host.
  if (!hasProto) headers.push('x-forwarded-proto', 'http');
  if (!hasForwardedHost && req.headers.host !== undefined) headers.push('x-forwarded-host', req.headers.host);
  return headers;
}

/**
 * The response headers to relay to the client, from the backend's raw [name, value, ...] list:
 * hop-by-hop headers (and those its Connection header names) removed, duplicates such as several
 * Set-Cookie kept in order. Latin-1 both ways, so header bytes pass through unchanged.
 */
export function relayResponseHeaders(raw: readonly (Buffer | string)[]): string[] {
  const headers: string[] = [];
  let listed: Set<string> | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toString('latin1');
    const value = raw[i + 1]!.toString('latin1');
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower)) {
      if (lower === 'connection') listed = connectionTokens(value);
      continue;
    }
    headers.push(name, value);
  }
  if (listed === undefined) return headers;
  const kept: string[] = [];
  for (let i = 0; i + 1 < headers.length; i += 2) {
    if (!listed.has(headers[i]!.toLowerCase())) kept.push(headers[i]!, headers[i + 1]!);
  }
  return kept;
}

/** Serializes an upgrade request head for a raw socket to the backend. */
export function upgradeRequestHead(req: IncomingMessage, headers: string[]): string {
  let head = `${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/1.1\r\n`;
  for (let i = 0; i + 1 < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
  return `${head}\r\n`;
}

function clientAddress(req: IncomingMessage): string {
  const address = req.socket.remoteAddress ?? '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

function connectionTokens(value: string | string[] | undefined): Set<string> | undefined {
  if (value === undefined) return undefined;
  const text = Array.isArray(value) ? value.join(',') : value;
  const tokens = new Set<string>();
  for (const token of text.split(',')) {
    const name = token.trim().toLowerCase();
    if (name !== '' && name !== 'close' && name !== 'keep-alive' && name !== 'upgrade') tokens.add(name);
  }
  return tokens.size > 0 ? tokens : undefined;
}
