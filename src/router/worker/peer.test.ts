import { BlockList, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { identifyPeer, peerOf } from './peer.js';

function socketFrom(remoteAddress: string | undefined): Socket {
  return { remoteAddress } as Socket;
}

describe('identifyPeer', () => {
  const trusted = new BlockList();
  trusted.addSubnet('10.0.0.0', 8, 'ipv4');
  trusted.addSubnet('fd00::', 8, 'ipv6');

  it.each([
    ['10.1.2.3', { address: '10.1.2.3', family: 'ipv4', trusted: true }],
    ['::ffff:10.1.2.3', { address: '10.1.2.3', family: 'ipv4', trusted: true }],
    ['11.1.2.3', { address: '11.1.2.3', family: 'ipv4', trusted: false }],
    ['fd00::7', { address: 'fd00::7', family: 'ipv6', trusted: true }],
    ['::1', { address: '::1', family: 'ipv6', trusted: false }],
    [undefined, { address: '', family: 'ipv4', trusted: false }],
  ])('sees %s as %j', (remoteAddress, expected) => {
    expect(identifyPeer(socketFrom(remoteAddress), trusted)).toEqual(expected);
  });

  it('trusts nobody without a list', () => {
    expect(identifyPeer(socketFrom('10.1.2.3'), undefined).trusted).toBe(false);
  });

  it('keeps the decision on the socket for the requests of the connection', () => {
    const socket = socketFrom('10.1.2.3');
    const peer = identifyPeer(socket, trusted);
    expect(peerOf(socket)).toBe(peer);
  });
});
