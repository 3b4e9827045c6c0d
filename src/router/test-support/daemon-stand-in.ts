import { RouterClient } from '../client.js';
import type { RouteSpec } from '../types.js';

/**
 * Stands in for the Ferry daemon in tests: starts the router of a state directory, puts one route,
 * prints the router's pid, then idles until it is killed.
 * Usage: daemon-stand-in.ts STATE_DIR ROUTE_SPEC_JSON
 */
const [stateDir, specJson] = process.argv.slice(2);
if (stateDir === undefined || specJson === undefined)
  throw new Error('usage: daemon-stand-in.ts STATE_DIR ROUTE_SPEC_JSON');
const client = new RouterClient({ stateDir });
const { pid } = await client.ensureRunning();
await client.putRoute(JSON.parse(specJson) as RouteSpec);
process.stdout.write(`${pid}\n`);
setInterval(() => undefined, 60_000);
