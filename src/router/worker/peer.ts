import type { BlockList, Socket } from 'node:net';

/** The client end of one connection as the router sees it: its address and whether it is trusted. */
export interface Peer {
  /** IPv4-mapped IPv6 addresses ("::ffff:10.0.0.1") are given as IPv4. */
  readonly address: string;
  readonly family: 'ipv4' | 'ipv6';
  /** A trusted proxy: its forwarded headers are kept and it has no per-client connection limit. */
  readonly trusted: boolean;
}

const kPeer = Symbol('ferry.router.peer');

interface PeerSocket {
  remoteAddress?: string | undefined;
  [kPeer]?: Peer;
}

/**
 * Decides who the peer of a new connection is, once, and keeps the answer on the socket: every
 * request on the connection reads it instead of parsing and matching the address again.
 */
export function identifyPeer(socket: Socket, trustedProxies: BlockList | undefined): Peer {
  const raw = socket.remoteAddress ?? '';
  const mapped = raw.startsWith('::ffff:') && raw.includes('.');
  const address = mapped ? raw.slice(7) : raw;
  const family = address.includes(':') ? 'ipv6' : 'ipv4';
  const trusted = trustedProxies !== undefined && address !== '' && trustedProxies.check(address, family);
  const peer: Peer = { address, family, trusted };
  (socket as PeerSocket)[kPeer] = peer;
  return peer;
}

/** The peer of a connection, as identified when it was accepted (trusting nobody if it was not). */
export function peerOf(socket: Socket): Peer {
  return (socket as PeerSocket)[kPeer] ?? identifyPeer(socket, undefined);
}
