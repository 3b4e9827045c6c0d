import type { Peer } from './peer.js';

/** The limit a refused connection hit. */
export type ConnectionRefusal = 'max-connections' | 'max-connections-per-client';

export interface ConnectionLimitSettings {
  readonly maxConnections: number;
  readonly maxConnectionsPerClient: number;
}

/**
 * Open client connections of one route, in all and per client address, and the connections refused.
 * Trusted proxies are not counted per client: one proxy carries the connections of many clients.
 */
export class ConnectionLimits {
  open = 0;
  readonly refused = { maxConnections: 0, maxConnectionsPerClient: 0 };
  private readonly perClient = new Map<string, number>();

  /** Counts a new connection in, or returns the limit that refuses it (and counts the refusal). */
  admit(peer: Peer, limits: ConnectionLimitSettings): ConnectionRefusal | undefined {
    if (this.open >= limits.maxConnections) {
      this.refused.maxConnections += 1;
      return 'max-connections';
    }
    if (!peer.trusted) {
      const fromClient = this.perClient.get(peer.address) ?? 0;
      if (fromClient >= limits.maxConnectionsPerClient) {
        this.refused.maxConnectionsPerClient += 1;
        return 'max-connections-per-client';
      }
      this.perClient.set(peer.address, fromClient + 1);
    }
    this.open += 1;
    return undefined;
  }

  /** An admitted connection closed. */
  release(peer: Peer): void {
    this.open -= 1;
    if (peer.trusted) return;
    const fromClient = (this.perClient.get(peer.address) ?? 1) - 1;
    if (fromClient > 0) this.perClient.set(peer.address, fromClient);
    else this.perClient.delete(peer.address);
  }
}
