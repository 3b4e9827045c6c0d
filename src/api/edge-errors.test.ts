import { EventEmitter } from 'node:events';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalog } from '../errors/catalog.js';
import { FerryError } from '../errors/ferry-error.js';
import { silentLogger } from '../lib/logger.js';
import type { ControlPlane } from './control-plane.js';
import { createApiServer } from './server.js';
import type { ErrorResponse, StatusResponse } from './types.js';

const TOKEN = 'edge-token-5f1e';
const AUTH = `Authorization: Bearer ${TOKEN}\r\n`;

/** Enough of a control plane for the edge: status knows one environment, the rest is never reached. */
const control = {
  bus: new EventEmitter(),
  status: ({ env }: { env?: string }) =>
    env === undefined || env === 'production'
      ? Promise.resolve({ apps: [] } as unknown as StatusResponse)
      : Promise.reject(
          new FerryError('FERRY_E_ENV_UNKNOWN', `no environment named "${env}" (known: production)`, {
            got: env,
            known: ['production'],
          }),
        ),
} as unknown as ControlPlane;

let api: ReturnType<typeof createApiServer>;
let port: number;

beforeAll(async () => {
  api = createApiServer({ control, token: TOKEN, logger: silentLogger() });
  await api.listen({ port: 0, host: '127.0.0.1' });
  port = (api.server.address() as net.AddressInfo).port;
});

afterAll(async () => {
  await api.close();
});

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: ErrorResponse;
}

/**
 * Sends bytes as they are over a real socket (no client library to tidy them up) and reads the
 * answer until the server closes or it is complete.
 */
function send(bytes: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes));
    let text = '';
    const done = () => {
      const [head = '', body = ''] = text.split('\r\n\r\n');
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers = Object.fromEntries(
        lines.map((line) => [
          line.slice(0, line.indexOf(':')).toLowerCase(),
          line.slice(line.indexOf(':') + 1).trim(),
        ]),
      );
      const length = Number(headers['content-length']);
      if (Buffer.byteLength(body) < length) return false;
      socket.destroy();
      try {
        resolve({
          status: Number(statusLine.split(' ')[1]),
          headers,
          body: JSON.parse(body) as ErrorResponse,
        });
      } catch (error) {
        reject(new Error(`not an envelope: ${text}`, { cause: error }));
      }
      return true;
    };
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
      done();
    });
    socket.on(
      'close',
      () => void (done() || reject(new Error(`no complete answer: ${JSON.stringify(text)}`))),
    );
    socket.on('error', () => undefined);
    socket.setTimeout(10_000, () => socket.destroy());
  });
}

function get(path: string, headers = AUTH): Promise<RawResponse> {
  return send(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers}\r\n`);
}

function post(path: string, contentType: string, body: string): Promise<RawResponse> {
  return send(
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${AUTH}Content-Type: ${contentType}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/** The answer is Ferry's envelope, with a catalog code whose status it has. */
function expectEnvelope(response: RawResponse, code: keyof typeof catalog, status: number): void {
  expect(response.status).toBe(status);
  expect(catalog[code].http).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  expect(response.body).toEqual({
    error: { code, message: expect.any(String) as string, details: expect.any(Object) as object },
  });
}

describe('every error from the API is the envelope with a catalog code, on a real socket', () => {
  it('an over-long path parameter: 414, without quoting the path back', async () => {
    const response = await get(`/v1/deployments/${'x'.repeat(101)}`);
    expectEnvelope(response, 'FERRY_E_URL_TOO_LONG', 414);
    expect(JSON.stringify(response.body)).not.toContain('xxxxxxxxxx');
    // At the limit it is routed as usual (and needs the token).
    expect((await get(`/v1/deployments/${'x'.repeat(100)}`, '')).status).toBe(401);
  });

  it('an oversized URL, and oversized headers: 431, and the connection is closed', async () => {
    const url = await get(`/v1/status?env=${'a'.repeat(20_000)}`);
    expectEnvelope(url, 'FERRY_E_HEADERS_TOO_LARGE', 431);
    expect(url.headers.connection).toBe('close');
    const headers = await get('/v1/status', `${AUTH}X-Padding: ${'p'.repeat(20_000)}\r\n`);
    expectEnvelope(headers, 'FERRY_E_HEADERS_TOO_LARGE', 431);
  });

  it('bytes that are not HTTP: 400', async () => {
    expectEnvelope(await send('HELLO THERE\r\n\r\n'), 'FERRY_E_USAGE', 400);
  });

  it('a path that is not valid percent-encoding: 400', async () => {
    expectEnvelope(await get('/v1/deployments/%zz'), 'FERRY_E_USAGE', 400);
  });

  it('bad JSON, an empty JSON body, a __proto__ key: 400 naming the body', async () => {
    for (const body of ['{"app": ', '', '{"__proto__": {"x": 1}, "app": "a", "version": "1"}']) {
      const response = await post('/v1/deployments', 'application/json', body);
      expectEnvelope(response, 'FERRY_E_USAGE', 400);
      expect(response.body.error.message).toMatch(/^request body: expected a JSON object, got /);
    }
  });

  it('a body that is not JSON: 415, text/plain included', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
      const response = await post('/v1/deployments', type, 'app=hello&version=1');
      expectEnvelope(response, 'FERRY_E_UNSUPPORTED_MEDIA_TYPE', 415);
    }
  });

  it('an unknown route: 404 naming it, after the token like every route', async () => {
    const response = await get('/v1/nope');
    expectEnvelope(response, 'FERRY_E_ROUTE_UNKNOWN', 404);
    expect(response.body.error.message).toBe('no route GET /v1/nope');
    expectEnvelope(await get('/v1/nope', ''), 'FERRY_E_UNAUTHORIZED', 401);
  });

  it('a method a route does not take: 405 with Allow', async () => {
    const status = await send(`DELETE /v1/status HTTP/1.1\r\nHost: 127.0.0.1\r\n${AUTH}\r\n`);
    expectEnvelope(status, 'FERRY_E_METHOD_NOT_ALLOWED', 405);
    expect(status.headers.allow).toBe('GET, HEAD');
    expect(status.body.error.message).toBe('/v1/status: expected a method of GET, HEAD, got DELETE');
    const command = await get('/v1/apps/hello/pause');
    expectEnvelope(command, 'FERRY_E_METHOD_NOT_ALLOWED', 405);
    expect(command.headers.allow).toBe('POST');
    const history = await post('/v1/apps/hello/history', 'application/json', '{}');
    expect(history.headers.allow).toBe('GET, HEAD');
    // The routes themselves still answer.
    expect((await get('/v1/apps/hello/explode', '')).status).toBe(401);
  });

  it('an unknown environment: 404 naming it and the known ones', async () => {
    const response = await get('/v1/status?env=nope');
    expectEnvelope(response, 'FERRY_E_ENV_UNKNOWN', 404);
    expect(response.body.error.details).toEqual({ got: 'nope', known: ['production'] });
  });
});
