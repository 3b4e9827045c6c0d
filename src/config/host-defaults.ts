import path from 'node:path';
import { parseDuration } from '../lib/duration.js';
import { parseSize } from '../lib/size.js';
import type { FerryConfig } from './types.js';

/** ferry.yaml's defaults of the host-local settings (`router`, `artifacts`), as written in the file. */
export const HOST_SETTING_DEFAULTS = {
  routerHoldTimeout: '10s',
  routerWorkers: 1,
  artifactsCache: true,
  artifactsCacheMaxSize: '5GiB',
  artifactsRequireChecksum: true,
} as const;

/** The download cache of a data directory. */
export function artifactCacheDir(dataDir: string): string {
  return path.join(dataDir, 'cache', 'artifacts');
}

/**
 * What a ferry.yaml without `router` and `artifacts` compiles them to, for a data directory: how
 * `ferry agent`, which has no ferry.yaml, runs its router and download cache. It does not load the
 * config schema and its parser for that (an agent's memory: bench/agent-idle.mjs); a test holds
 * this to what the schema compiles.
 */
export function defaultHostSettings(dataDir: string): Pick<FerryConfig, 'router' | 'artifacts'> {
  const d = HOST_SETTING_DEFAULTS;
  return {
    router: {
      holdTimeoutMs: parseDuration(d.routerHoldTimeout)!,
      workers: d.routerWorkers,
      trustedProxies: [],
    },
    artifacts: {
      cacheDir: d.artifactsCache ? artifactCacheDir(dataDir) : null,
      cacheMaxBytes: parseSize(d.artifactsCacheMaxSize)!,
      requireChecksum: d.artifactsRequireChecksum,
    },
  };
}
