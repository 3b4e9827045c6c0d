import { describe, expect, it } from 'vitest';
import { isFerryError } from '../errors/ferry-error.js';
import { parseRouteSpec } from './validate-route.js';

const good = {
  name: 'hello.production',
  listen: { host: '0.0.0.0', port: 8080 },
  backends: [{ id: 'i-1', release: 'v1.4.2', host: '127.0.0.1', port: 40001, weight: 100, healthy: true }],
  holdTimeoutMs: 5000,
};

function problemsOf(body: unknown, name?: string): string {
  try {
    parseRouteSpec(body, name);
  } catch (error) {
    expect(isFerryError(error, 'FERRY_E_USAGE')).toBe(true);
    return (error as Error).message;
  }
  throw new Error('expected the route to be refused');
}

describe('parseRouteSpec', () => {
  it('accepts a good route and drops fields it does not know (a newer daemon may send them)', () => {
    expect(parseRouteSpec({ ...good, futureField: 1 }, 'hello.production')).toEqual(good);
    expect(parseRouteSpec({ ...good, name: undefined }, 'hello.production').name).toBe('hello.production');
  });

  it.each([
    [
      { ...good, listen: { host: '0.0.0.0', port: 70000 } },
      'listen.port: expected a port number from 1 to 65535, got 70000',
    ],
    [{ ...good, listen: { port: 80 } }, 'listen.host: expected a host name or IP address, got nothing'],
    [{ ...good, listen: 'x' }, 'listen: expected an object {host, port}, got "x"'],
    [{ ...good, backends: {} }, 'backends: expected a list of backends'],
    [
      { ...good, backends: [{ ...good.backends[0], weight: -1 }] },
      'backends[0].weight: expected a number >= 0, got -1',
    ],
    [
      { ...good, backends: [{ ...good.backends[0], healthy: 'yes' }] },
      'backends[0].healthy: expected true or false, got "yes"',
    ],
    [{ ...good, backends: [{ ...good.backends[0], id: '' }] }, 'backends[0].id: expected a non-empty string'],
    [
      { ...good, backends: [good.backends[0], good.backends[0]] },
      'backends[1].id: expected an id unique within the route',
    ],
    [{ ...good, holdTimeoutMs: -5 }, 'holdTimeoutMs: expected an integer from 0 to 600000, got -5'],
    [
      { ...good, idleTimeoutMs: 2 ** 31 },
      'idleTimeoutMs: expected milliseconds, an integer from 0 (none) to 2147483647, got 2147483648',
    ],
    [{ ...good, responseTimeoutMs: '5s' }, 'responseTimeoutMs: expected milliseconds'],
    [{ ...good, maxConnections: 0 }, 'maxConnections: expected an integer from 1 to 2147483647, got 0'],
    [{ ...good, maxHeaderBytes: 1.5 }, 'maxHeaderBytes: expected an integer from 1'],
    [
      { ...good, trustedProxies: '10.0.0.0/8' },
      'trustedProxies: expected a list of {address, prefix, family}',
    ],
    [
      { ...good, trustedProxies: [{ address: '10.0.0.300', prefix: 8, family: 'ipv4' }] },
      'trustedProxies[0].address: expected an IP address, got "10.0.0.300"',
    ],
    [
      { ...good, trustedProxies: [{ address: '10.0.0.0', prefix: 33, family: 'ipv4' }] },
      'trustedProxies[0].prefix: expected a prefix length from 0 to 32, got 33',
    ],
    [
      { ...good, trustedProxies: [{ address: 'fd00::', prefix: 8, family: 'ipv4' }] },
      'trustedProxies[0].family: expected "ipv6" (the address\'s), got "ipv4"',
    ],
    [{ ...good, name: 'bad name' }, 'name: expected a route name'],
    ['nope', 'body: expected a JSON object'],
  ])('refuses %j naming the field', (body, message) => {
    expect(problemsOf(body)).toContain(message);
  });

  it('keeps the router settings of a good route, and leaves absent ones absent (the router has defaults)', () => {
    const settings = {
      connectTimeoutMs: 5000,
      responseTimeoutMs: 0,
      idleTimeoutMs: 60_000,
      upgradeTimeoutMs: 10_000,
      headerTimeoutMs: 20_000,
      requestTimeoutMs: 300_000,
      maxHeaderBytes: 16_384,
      maxConnections: 10_000,
      maxConnectionsPerClient: 1000,
      trustedProxies: [
        { address: '10.0.0.0', prefix: 8, family: 'ipv4' },
        { address: '::1', prefix: 128, family: 'ipv6' },
      ],
    };
    expect(parseRouteSpec({ ...good, ...settings })).toEqual({ ...good, ...settings });
    expect(parseRouteSpec(good)).not.toHaveProperty('idleTimeoutMs');
  });

  it('reports every problem at once', () => {
    const message = problemsOf({ name: 'x', listen: { host: '', port: 0 }, backends: [{ id: 'a' }] });
    for (const field of [
      'listen.host',
      'listen.port',
      'backends[0].release',
      'backends[0].port',
      'backends[0].weight',
      'backends[0].healthy',
    ]) {
      expect(message).toContain(field);
    }
  });

  it('refuses a body whose name differs from the path', () => {
    expect(problemsOf(good, 'other')).toContain(
      'name: expected the name in the path "other", got "hello.production"',
    );
  });
});
