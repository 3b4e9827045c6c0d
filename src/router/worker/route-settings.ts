import { BlockList } from 'node:net';
import { DEFAULT_HOLD_TIMEOUT_MS, DEFAULT_ROUTE_SETTINGS, type IpRange, type RouteSpec } from '../types.js';

/** A route's settings with the defaults applied, resolved once per route change (never per request). */
export interface RouteSettings {
  readonly holdTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly responseTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly upgradeTimeoutMs: number;
  readonly headerTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly maxHeaderBytes: number;
  readonly maxConnections: number;
  readonly maxConnectionsPerClient: number;
  /** Undefined when no peer is trusted, the usual case: then nothing is looked up per connection. */
  readonly trustedProxies: BlockList | undefined;
}

/**
 * The settings a spec asks for, each absent field taking the router's default. Connection limits
 * are per process: each of `workers` router workers admits its share (rounded up), so an app never
 * holds much more than its limit whichever worker the kernel hands a connection to.
 */
export function resolveRouteSettings(spec: RouteSpec, workers = 1): RouteSettings {
  const d = DEFAULT_ROUTE_SETTINGS;
  const share = (limit: number): number => Math.max(1, Math.ceil(limit / Math.max(1, workers)));
  return {
    holdTimeoutMs: spec.holdTimeoutMs ?? DEFAULT_HOLD_TIMEOUT_MS,
    connectTimeoutMs: spec.connectTimeoutMs ?? d.connectTimeoutMs,
    responseTimeoutMs: spec.responseTimeoutMs ?? d.responseTimeoutMs,
    idleTimeoutMs: spec.idleTimeoutMs ?? d.idleTimeoutMs,
    upgradeTimeoutMs: spec.upgradeTimeoutMs ?? d.upgradeTimeoutMs,
    headerTimeoutMs: spec.headerTimeoutMs ?? d.headerTimeoutMs,
    requestTimeoutMs: spec.requestTimeoutMs ?? d.requestTimeoutMs,
    maxHeaderBytes: spec.maxHeaderBytes ?? d.maxHeaderBytes,
    maxConnections: share(spec.maxConnections ?? d.maxConnections),
    maxConnectionsPerClient: share(spec.maxConnectionsPerClient ?? d.maxConnectionsPerClient),
    trustedProxies: toBlockList(spec.trustedProxies ?? []),
  };
}

function toBlockList(ranges: readonly IpRange[]): BlockList | undefined {
  if (ranges.length === 0) return undefined;
  const list = new BlockList();
  for (const range of ranges) list.addSubnet(range.address, range.prefix, range.family);
  return list;
}
