import { describe, expect, it } from 'vitest';
import { ConnectionLimits } from './connection-limits.js';
import type { Peer } from './peer.js';

const client = (address: string): Peer => ({ address, family: 'ipv4', trusted: false });
const proxy: Peer = { address: '10.0.0.1', family: 'ipv4', trusted: true };
const limits = { maxConnections: 4, maxConnectionsPerClient: 2 };

describe('ConnectionLimits', () => {
  it('refuses a client over its own limit while others still get in, and counts refusals', () => {
    const connections = new ConnectionLimits();
    expect(connections.admit(client('a'), limits)).toBeUndefined();
    expect(connections.admit(client('a'), limits)).toBeUndefined();
    expect(connections.admit(client('a'), limits)).toBe('max-connections-per-client');
    expect(connections.admit(client('b'), limits)).toBeUndefined();
    expect(connections.open).toBe(3);
    expect(connections.refused).toEqual({ maxConnections: 0, maxConnectionsPerClient: 1 });
  });

  it('refuses everyone over the total, trusted proxies included', () => {
    const connections = new ConnectionLimits();
    for (let i = 0; i < 4; i++) expect(connections.admit(proxy, limits)).toBeUndefined();
    expect(connections.admit(proxy, limits)).toBe('max-connections');
    expect(connections.admit(client('c'), limits)).toBe('max-connections');
    expect(connections.refused).toEqual({ maxConnections: 2, maxConnectionsPerClient: 0 });
  });

  it('lets a client in again once its connections close', () => {
    const connections = new ConnectionLimits();
    connections.admit(client('a'), limits);
    connections.admit(client('a'), limits);
    connections.release(client('a'));
    expect(connections.admit(client('a'), limits)).toBeUndefined();
    connections.release(client('a'));
    connections.release(client('a'));
    connections.admit(proxy, limits);
    connections.release(proxy);
    expect(connections.open).toBe(0);
    expect(connections.admit(client('a'), limits)).toBeUndefined();
  });
});
