import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FerryError, messageOf } from '../errors/ferry-error.js';
import type { RouteSpec } from './types.js';
import { parseRouteSpec } from './validate-route.js';

const FILE_NAME = 'routes.json';
const FORMAT_VERSION = 1;

interface RouteTableFile {
  version: number;
  routes: RouteSpec[];
}

export function routeTablePath(stateDir: string): string {
  return join(stateDir, FILE_NAME);
}

/**
 * Writes the routing table atomically (temp file, flushed, then renamed), so a router restarted after
 * any crash finds either the old table or the new one, never half of one. Synchronous on purpose: the
 * file is small, and writes must land in the order the changes were made.
 */
export function saveRouteTable(stateDir: string, routes: RouteSpec[]): void {
  const path = routeTablePath(stateDir);
  const temp = `${path}.${process.pid}.tmp`;
  const table: RouteTableFile = { version: FORMAT_VERSION, routes };
  writeFileSync(temp, `${JSON.stringify(table, null, 2)}\n`, { mode: 0o600, flush: true });
  renameSync(temp, path);
}

/**
 * Reads the table saved by the last router. Missing file: an empty table. Routes that no longer
 * validate are skipped and reported, so one bad entry does not stop the others from serving.
 */
export function loadRouteTable(stateDir: string): { routes: RouteSpec[]; problems: string[] } {
  const path = routeTablePath(stateDir);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { routes: [], problems: [] };
    throw new FerryError(
      'FERRY_E_INTERNAL',
      `cannot read ${path}: ${messageOf(error)}`,
      { where: path },
      { cause: error },
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { routes: [], problems: [`${path}: expected JSON, got ${messageOf(error)}`] };
  }
  const list = (parsed as Partial<RouteTableFile> | null)?.routes;
  if (!Array.isArray(list)) return { routes: [], problems: [`${path}: expected {"routes": [...]}`] };
  const routes: RouteSpec[] = [];
  const problems: string[] = [];
  for (const item of list) {
    try {
      routes.push(parseRouteSpec(item));
    } catch (error) {
      problems.push(`${path}: ${messageOf(error)}`);
    }
  }
  return { routes, problems };
}
