import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { FerryError, isFerryError, messageOf } from '../errors/ferry-error.js';
import type { Router, RouterLogger } from './router.js';
import { isRouteName, parseRouteSpec } from './validate-route.js';

const MAX_BODY_BYTES = 1024 * 1024;
const ROUTE_PATH = /^\/routes\/([^/?]+)$/;

/**
 * The control API, HTTP over the router's unix socket: only processes that can open the socket file
 * (the daemon's user) can change routes, so it needs no token.
 */
export function createControlServer(router: Router, logger: RouterLogger): Server {
  return createServer((req, res) => {
    handle(router, req, res).catch((error: unknown) => {
      if (!isFerryError(error))
        logger.error({ err: messageOf(error), url: req.url }, 'control request failed');
      const ferryError = isFerryError(error)
        ? error
        : new FerryError('FERRY_E_INTERNAL', `router control API: ${messageOf(error)}`, {}, { cause: error });
      sendJson(res, ferryError.httpStatus, ferryError.toJSON());
    });
  });
}

async function handle(router: Router, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = (req.url ?? '/').split('?')[0] ?? '/';
  const method = req.method ?? 'GET';
  if (url === '/healthz' && method === 'GET') return sendJson(res, 200, { ok: true, pid: process.pid });
  if (url === '/routes' && method === 'GET') return sendJson(res, 200, router.routes());
  if (url === '/stats' && method === 'GET') return sendJson(res, 200, router.stats());
  const match = ROUTE_PATH.exec(url);
  if (match !== null) {
    const name = decodeURIComponent(match[1]!);
    if (method === 'PUT') {
      const spec = parseRouteSpec(await readJson(req), name);
      await router.putRoute(spec);
      return sendJson(res, 200, { ok: true });
    }
    if (method === 'DELETE') {
      if (!isRouteName(name)) throw usage('route name', "letters, digits, '.', '_' or '-'", name);
      const existed = await router.deleteRoute(name);
      return sendJson(res, 200, { ok: true, existed });
    }
  }
  throw new FerryError('FERRY_E_USAGE', `router control API: no ${method} ${url}`, {
    expected: 'GET /healthz, GET /routes, GET /stats, PUT or DELETE /routes/:name',
    got: `${method} ${url}`,
  });
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      throw new FerryError(
        'FERRY_E_BODY_TOO_LARGE',
        `route body: expected at most ${MAX_BODY_BYTES} bytes, got more`,
      );
    }
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw usage('body', 'a JSON RouteSpec', `invalid JSON (${messageOf(error)})`);
  }
}

function usage(what: string, expected: string, got: string): FerryError {
  return new FerryError('FERRY_E_USAGE', `${what}: expected ${expected}, got ${got}`, {
    where: what,
    expected,
    got,
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
