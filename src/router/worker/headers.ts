import type { IncomingMessage } from 'node:http';
import type { Peer } from './peer.js';

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
 * those the Connection header names) removed, Host kept, X-Forwarded-For/Proto/Host set. An upgrade
 * keeps its Connection and Upgrade headers, since they are the point of the request.
 *
 * Forwarded headers are believed only from a trusted proxy: its X-Forwarded-For list is kept and the
 * peer appended, its X-Forwarded-Proto and -Host are kept, and so are Forwarded and X-Real-IP. From
 * anyone else those are dropped and the router's own values set (the peer, http, the Host).
 *
 * Returns null when the request has more than one Host header: which one a backend would believe is
 * anyone's guess, so the request is refused rather than forwarded.
 */
export function upstreamRequestHeaders(
  req: IncomingMessage,
  peer: Peer,
  isUpgrade: boolean,
): string[] | null {
  const raw = req.rawHeaders;
  const listed = connectionTokens(req.headers.connection);
  const trusted = peer.trusted;
  const headers: string[] = [];
  let forwardedFor: string | undefined;
  let hasProto = false;
  let hasForwardedHost = false;
  let host: string | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    const lower = name.toLowerCase();
    if (lower === 'host') {
      if (host !== undefined) return null;
      host = value;
    } else if (lower.startsWith('x-')) {
      if (lower === 'x-forwarded-for') {
        if (trusted) forwardedFor = forwardedFor === undefined ? value : `${forwardedFor}, ${value}`;
        continue;
      }
      if (lower === 'x-forwarded-proto') {
        if (!trusted) continue;
        hasProto = true;
      } else if (lower === 'x-forwarded-host') {
        if (!trusted) continue;
        hasForwardedHost = true;
      } else if (lower === 'x-real-ip' && !trusted) continue;
    } else if (lower === 'forwarded') {
      if (!trusted) continue;
    } else if (isUpgrade && (lower === 'connection' || lower === 'upgrade')) {
      headers.push(name, value);
      continue;
    } else if (HOP_BY_HOP.has(lower) || lower === 'expect') {
      // Node has already answered "Expect: 100-continue"; the upstream client refuses to send it.
      continue;
    }
    if (listed?.has(lower) === true) continue;
    headers.push(name, value);
  }
  headers.push(
    'x-forwarded-for',
    forwardedFor === undefined ? peer.address : `${forwardedFor}, ${peer.address}`,
  );
  if (!hasProto) headers.push('x-forwarded-proto', 'http');
  if (!hasForwardedHost && host !== undefined) headers.push('x-forwarded-host', host);
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
