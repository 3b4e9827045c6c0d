import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { upstreamRequestHeaders } from './headers.js';
import type { Peer } from './peer.js';

const client: Peer = { address: '198.51.100.9', family: 'ipv4', trusted: false };
const proxy: Peer = { address: '10.0.0.2', family: 'ipv4', trusted: true };

function request(rawHeaders: string[]): IncomingMessage {
  const headers: Record<string, string> = {};
  for (let i = 0; i < rawHeaders.length; i += 2) headers[rawHeaders[i]!.toLowerCase()] ??= rawHeaders[i + 1]!;
  return { rawHeaders, headers } as unknown as IncomingMessage;
}

function asObject(list: string[] | null): Record<string, string[]> {
  const seen: Record<string, string[]> = {};
  for (let i = 0; list !== null && i < list.length; i += 2)
    (seen[list[i]!.toLowerCase()] ??= []).push(list[i + 1]!);
  return seen;
}

const forwarded = [
  'Host',
  'app.test',
  'X-Forwarded-For',
  '203.0.113.7',
  'X-Forwarded-For',
  '203.0.113.8',
  'X-Forwarded-Proto',
  'https',
  'X-Forwarded-Host',
  'public.test',
  'Forwarded',
  'for=203.0.113.7',
  'X-Real-IP',
  '203.0.113.7',
  'Accept',
  'text/html',
];

describe('upstreamRequestHeaders', () => {
  it('replaces the forwarded headers of a peer it does not trust', () => {
    expect(asObject(upstreamRequestHeaders(request(forwarded), client, false))).toEqual({
      host: ['app.test'],
      accept: ['text/html'],
      'x-forwarded-for': ['198.51.100.9'],
      'x-forwarded-proto': ['http'],
      'x-forwarded-host': ['app.test'],
    });
  });

  it("keeps a trusted proxy's forwarded headers, appending the peer to its list", () => {
    expect(asObject(upstreamRequestHeaders(request(forwarded), proxy, false))).toEqual({
      host: ['app.test'],
      accept: ['text/html'],
      'x-forwarded-for': ['203.0.113.7, 203.0.113.8, 10.0.0.2'],
      'x-forwarded-proto': ['https'],
      'x-forwarded-host': ['public.test'],
      forwarded: ['for=203.0.113.7'],
      'x-real-ip': ['203.0.113.7'],
    });
  });

  it('strips hop-by-hop headers and those Connection names, except Connection and Upgrade of an upgrade', () => {
    const raw = [
      'Host',
      'a',
      'Connection',
      'Upgrade, X-Private',
      'Upgrade',
      'websocket',
      'X-Private',
      's',
      'TE',
      'x',
    ];
    expect(Object.keys(asObject(upstreamRequestHeaders(request(raw), client, false)))).toEqual([
      'host',
      'x-forwarded-for',
      'x-forwarded-proto',
      'x-forwarded-host',
    ]);
    const upgrade = asObject(upstreamRequestHeaders(request(raw), client, true));
    expect(upgrade.connection).toEqual(['Upgrade, X-Private']);
    expect(upgrade.upgrade).toEqual(['websocket']);
    expect(upgrade['x-private']).toBeUndefined();
  });

  it('refuses a request with two Host headers', () => {
    expect(upstreamRequestHeaders(request(['Host', 'a.test', 'host', 'b.test']), proxy, false)).toBeNull();
  });
});
