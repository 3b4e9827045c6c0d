import { isIP } from 'node:net';
import { FerryError, expectedGot } from '../errors/ferry-error.js';
import type { BackendSpec, IpRange, ListenAddress, RouteSpec } from './types.js';

const ROUTE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;
const MAX_HOLD_TIMEOUT_MS = 600_000;
/** Node's timers take at most 2^31 - 1 ms (about 24.8 days); a longer one would fire at once. */
const MAX_TIMER_MS = 2_147_483_647;

/** The route's timeouts: milliseconds, 0 for none. */
const TIMEOUT_FIELDS = [
  'connectTimeoutMs',
  'responseTimeoutMs',
  'idleTimeoutMs',
  'upgradeTimeoutMs',
  'headerTimeoutMs',
  'requestTimeoutMs',
] as const;
/** The route's limits: whole numbers >= 1. */
const LIMIT_FIELDS = ['maxHeaderBytes', 'maxConnections', 'maxConnectionsPerClient'] as const;

type Problems = string[];

/**
 * Validates a route body from the control API and returns a clean copy holding only the known fields.
 * Unknown fields are ignored rather than refused: a newer daemon may talk to an older, still running router.
 * Every problem is reported at once, each naming its field.
 */
export function parseRouteSpec(body: unknown, nameFromPath?: string): RouteSpec {
  const problems: Problems = [];
  const spec = readRoute(body, nameFromPath, problems);
  if (problems.length > 0 || spec === undefined) {
    throw new FerryError('FERRY_E_USAGE', `invalid route: ${problems.join('; ')}`, {
      where: nameFromPath === undefined ? 'route' : `routes.${nameFromPath}`,
      problems,
    });
  }
  return spec;
}

/** Validates a route name on its own (the DELETE path). */
export function isRouteName(name: string): boolean {
  return ROUTE_NAME.test(name);
}

function readRoute(
  body: unknown,
  nameFromPath: string | undefined,
  problems: Problems,
): RouteSpec | undefined {
  if (!isRecord(body)) {
    problems.push(expectedGot('body', 'a JSON object (a RouteSpec)', body));
    return undefined;
  }
  const name = body.name ?? nameFromPath;
  if (typeof name !== 'string' || !ROUTE_NAME.test(name)) {
    problems.push(expectedGot('name', "a route name of letters, digits, '.', '_' or '-'", name));
  } else if (nameFromPath !== undefined && name !== nameFromPath) {
    problems.push(expectedGot('name', `the name in the path ${JSON.stringify(nameFromPath)}`, name));
  }
  const listen = readListen(body.listen, problems);
  const backends = readBackends(body.backends, problems);
  let holdTimeoutMs: number | undefined;
  if (body.holdTimeoutMs !== undefined) {
    if (isIntegerIn(body.holdTimeoutMs, 0, MAX_HOLD_TIMEOUT_MS)) holdTimeoutMs = body.holdTimeoutMs;
    else
      problems.push(
        expectedGot('holdTimeoutMs', `an integer from 0 to ${MAX_HOLD_TIMEOUT_MS}`, body.holdTimeoutMs),
      );
  }
  const settings: Partial<RouteSpec> = {};
  for (const field of TIMEOUT_FIELDS) {
    const value = body[field];
    if (value === undefined) continue;
    if (isIntegerIn(value, 0, MAX_TIMER_MS)) settings[field] = value;
    else
      problems.push(expectedGot(field, `milliseconds, an integer from 0 (none) to ${MAX_TIMER_MS}`, value));
  }
  for (const field of LIMIT_FIELDS) {
    const value = body[field];
    if (value === undefined) continue;
    if (isIntegerIn(value, 1, MAX_TIMER_MS)) settings[field] = value;
    else problems.push(expectedGot(field, `an integer from 1 to ${MAX_TIMER_MS}`, value));
  }
  if (body.trustedProxies !== undefined) {
    const trustedProxies = readIpRanges('trustedProxies', body.trustedProxies, problems);
    if (trustedProxies !== undefined) settings.trustedProxies = trustedProxies;
  }
  if (typeof name !== 'string' || listen === undefined || backends === undefined) return undefined;
  const spec: RouteSpec = { name, listen, backends };
  if (holdTimeoutMs !== undefined) spec.holdTimeoutMs = holdTimeoutMs;
  return Object.assign(spec, settings);
}

function readIpRanges(path: string, value: unknown, problems: Problems): IpRange[] | undefined {
  if (!Array.isArray(value)) {
    problems.push(expectedGot(path, 'a list of {address, prefix, family}', value));
    return undefined;
  }
  const before = problems.length;
  const ranges: IpRange[] = [];
  value.forEach((item: unknown, index) => {
    const where = `${path}[${index}]`;
    if (!isRecord(item)) {
      problems.push(expectedGot(where, 'an object {address, prefix, family}', item));
      return;
    }
    const { address, prefix, family } = item;
    const version = typeof address === 'string' ? isIP(address) : 0;
    if (version === 0) {
      problems.push(expectedGot(`${where}.address`, 'an IP address', address));
      return;
    }
    const expectedFamily = version === 4 ? 'ipv4' : 'ipv6';
    if (family !== expectedFamily) {
      problems.push(expectedGot(`${where}.family`, `"${expectedFamily}" (the address's)`, family));
      return;
    }
    const max = version === 4 ? 32 : 128;
    if (!isIntegerIn(prefix, 0, max)) {
      problems.push(expectedGot(`${where}.prefix`, `a prefix length from 0 to ${max}`, prefix));
      return;
    }
    ranges.push({ address: address as string, prefix, family: expectedFamily });
  });
  return problems.length > before ? undefined : ranges;
}

function readListen(value: unknown, problems: Problems): ListenAddress | undefined {
  if (!isRecord(value)) {
    problems.push(expectedGot('listen', 'an object {host, port}', value));
    return undefined;
  }
  const host = readHost('listen.host', value.host, problems);
  const port = readPort('listen.port', value.port, problems);
  return host === undefined || port === undefined ? undefined : { host, port };
}

function readBackends(value: unknown, problems: Problems): BackendSpec[] | undefined {
  if (!Array.isArray(value)) {
    problems.push(expectedGot('backends', 'a list of backends (it may be empty)', value));
    return undefined;
  }
  const backends: BackendSpec[] = [];
  const seen = new Set<string>();
  value.forEach((item: unknown, index) => {
    const backend = readBackend(`backends[${index}]`, item, problems);
    if (backend === undefined) return;
    if (seen.has(backend.id)) {
      problems.push(expectedGot(`backends[${index}].id`, 'an id unique within the route', backend.id));
      return;
    }
    seen.add(backend.id);
    backends.push(backend);
  });
  return backends;
}

function readBackend(path: string, value: unknown, problems: Problems): BackendSpec | undefined {
  if (!isRecord(value)) {
    problems.push(expectedGot(path, 'an object {id, release, host, port, weight, healthy}', value));
    return undefined;
  }
  const before = problems.length;
  const { id, release, weight, healthy } = value;
  if (typeof id !== 'string' || id.length === 0)
    problems.push(expectedGot(`${path}.id`, 'a non-empty string', id));
  if (typeof release !== 'string') problems.push(expectedGot(`${path}.release`, 'a string', release));
  const host = readHost(`${path}.host`, value.host, problems);
  const port = readPort(`${path}.port`, value.port, problems);
  if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0) {
    problems.push(expectedGot(`${path}.weight`, 'a number >= 0', weight));
  }
  if (typeof healthy !== 'boolean') problems.push(expectedGot(`${path}.healthy`, 'true or false', healthy));
  if (problems.length > before || host === undefined || port === undefined) return undefined;
  return {
    id: id as string,
    release: release as string,
    host,
    port,
    weight: weight as number,
    healthy: healthy as boolean,
  };
}

function readHost(path: string, value: unknown, problems: Problems): string | undefined {
  if (typeof value === 'string' && value.length > 0 && value.length <= 255 && !/\s/.test(value)) return value;
  problems.push(expectedGot(path, 'a host name or IP address', value));
  return undefined;
}

function readPort(path: string, value: unknown, problems: Problems): number | undefined {
  if (isIntegerIn(value, 1, 65535)) return value;
  problems.push(expectedGot(path, 'a port number from 1 to 65535', value));
  return undefined;
}

function isIntegerIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
