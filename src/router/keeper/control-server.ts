import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { FerryError, isFerryError, messageOf } from '../../errors/ferry-error.js';
import type { RouterLogger } from '../worker/router.js';
import type { RouteSpec, RouterHealth, RouterStats } from '../types.js';
import { isRouteName, parseRouteSpec } from '../validate-route.js';

const MAX_BODY_BYTES = 1024 * 1024;
const ROUTE_PATH = /^\/routes\/([^/?]+)$/;
const MAX_WORKERS = 16;

/** What the control API drives: the keeper. */
export interface RouterControl {
  health(): RouterHealth;
  routes(): RouteSpec[];
  stats(): Promise<RouterStats>;
  putRoute(spec: RouteSpec): Promise<void>;
  deleteRoute(name: string): Promise<boolean>;
  setWorkers(count: number): void;
  /** Starts a successor keeper from `entry`; resolves with its pid once it took over. */
  handOver(entry: URL): Promise<number>;
}

/**
 * The control API, HTTP over the router's unix socket: only processes that can open the socket file
 * (the daemon's user) can change routes, so it needs no token.
 */
export function createControlServer(router: RouterControl, logger: RouterLogger): Server {
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

async function handle(router: RouterControl, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = (req.url ?? '/').split('?')[0] ?? '/';
  const method = req.method ?? 'GET';
  if (url === '/healthz' && method === 'GET') return sendJson(res, 200, router.health());
  if (url === '/routes' && method === 'GET') return sendJson(res, 200, router.routes());
  if (url === '/stats' && method === 'GET') return sendJson(res, 200, await router.stats());
  if (url === '/workers' && method === 'PUT') {
    const count = (await readJson(req, 'a JSON object {"count": n}')) as { count?: unknown };
    if (
      !Number.isInteger(count.count) ||
      (count.count as number) < 1 ||
      (count.count as number) > MAX_WORKERS
    )
      throw usage('count', `a whole number from 1 to ${MAX_WORKERS}`, JSON.stringify(count.count));
    router.setWorkers(count.count as number);
    return sendJson(res, 200, { ok: true });
  }
  if (url === '/handover' && method === 'POST') {
    const body = (await readJson(req, 'a JSON object {"entry": path}')) as { entry?: unknown };
    const pid = await router.handOver(keeperEntry(body.entry));
    return sendJson(res, 200, { ok: true, pid });
  }
  const match = ROUTE_PATH.exec(url);
  if (match !== null) {
    const name = decodeURIComponent(match[1]!);
    if (method === 'PUT') {
      const spec = parseRouteSpec(await readJson(req, 'a JSON RouteSpec'), name);
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
    expected:
      'GET /healthz, GET /routes, GET /stats, PUT or DELETE /routes/:name, PUT /workers, POST /handover',
    got: `${method} ${url}`,
  });
}

/** The successor's keeper entry: an existing router main module, by absolute path. */
function keeperEntry(entry: unknown): URL {
  if (
    typeof entry !== 'string' ||
    !path.isAbsolute(entry) ||
    !/^main\.(js|ts)$/.test(path.basename(entry)) ||
    !existsSync(entry)
  ) {
    throw usage('entry', "the absolute path of a router's main.js", JSON.stringify(entry));
  }
  return pathToFileURL(entry);
}

async function readJson(req: IncomingMessage, expected: string): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      throw new FerryError(
        'FERRY_E_BODY_TOO_LARGE',
        `control request body: expected at most ${MAX_BODY_BYTES} bytes, got more`,
      );
    }
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (error) {
    throw usage('body', expected, `invalid JSON (${messageOf(error)})`);
  }
  if (typeof value !== 'object' || value === null) throw usage('body', expected, text.slice(0, 40));
  return value;
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
