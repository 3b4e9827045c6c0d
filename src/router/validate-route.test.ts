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
    [{ ...good, name: 'bad name' }, 'name: expected a route name'],
    ['nope', 'body: expected a JSON object'],
  ])('refuses %j naming the field', (body, message) => {
    expect(problemsOf(body)).toContain(message);
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
