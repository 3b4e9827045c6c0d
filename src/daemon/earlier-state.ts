import { readdirSync } from 'node:fs';
import path from 'node:path';
import { listReleases } from '../artifacts/index.js';
import type { FerryConfig } from '../config/types.js';
import { FerryError } from '../errors/ferry-error.js';
import { loadRouteTable } from '../router/route-table-file.js';
import { isRouterProcess, readPidFile, routerFiles } from '../router/state-dir.js';
import type { RouteSpec } from '../router/types.js';
import type { InstanceStore, Store } from '../store/store.js';
import { findMarkedProcesses, type MarkedProcess } from '../supervisor/index.js';
import type { DaemonPaths } from './paths.js';

/** Signs in the data directory that Ferry ran here before, whatever the store says. */
export interface EarlierState {
  /** Processes carrying this data directory's instance marker. */
  readonly processes: readonly MarkedProcess[];
  /** The routing table the router saved (router/routes.json). */
  readonly routes: readonly RouteSpec[];
  /** Installed releases, as apps/<app>/<env>/releases/<version>. */
  readonly releaseDirs: readonly string[];
  /** A router process running on router/, or null. */
  readonly routerPid: number | null;
}

/**
 * How this start goes. resume: the store has state (the usual restart). fresh: a new store on a
 * data directory with no earlier state. adopt / reset: a lost store, on the user's choice.
 */
export type StartMode = 'resume' | 'fresh' | 'adopt' | 'reset';

/** What the user chose for a lost store: `ferry up --adopt` or `ferry up --reset`. */
export type Recovery = 'adopt' | 'reset';

/** Looks for earlier state without changing anything (reads files and /proc only). */
export async function findEarlierState(paths: DaemonPaths): Promise<EarlierState> {
  const releaseDirs: string[] = [];
  for (const app of subdirectories(paths.appsDir)) {
    for (const env of subdirectories(path.join(paths.appsDir, app))) {
      const versions = await listReleases(path.join(paths.appsDir, app, env, 'releases'));
      releaseDirs.push(...versions.map((version) => `apps/${app}/${env}/releases/${version}`));
    }
  }
  const routerPid = readPidFile(routerFiles(paths.routerDir).pid) ?? null;
  return {
    processes: findMarkedProcesses(paths.home),
    routes: loadRouteTable(paths.routerDir).routes,
    releaseDirs,
    routerPid: routerPid !== null && isRouterProcess(routerPid) ? routerPid : null,
  };
}

export function hasEarlierState(state: EarlierState): boolean {
  return (
    state.processes.length > 0 ||
    state.routes.length > 0 ||
    state.releaseDirs.length > 0 ||
    state.routerPid !== null
  );
}

/**
 * A store is new when it records nothing that a daemon ever did: no deployment, no audit entry, no
 * instance, and no release or current release for a configured app.
 */
export async function isStoreNew(store: Store & InstanceStore, config: FerryConfig): Promise<boolean> {
  if ((await store.listDeployments({ limit: 1 })).length > 0) return false;
  if ((await store.listAudit(1)).length > 0) return false;
  if ((await store.listInstances()).length > 0) return false;
  for (const [app, settings] of Object.entries(config.apps)) {
    for (const env of Object.keys(settings.environments)) {
      if ((await store.getCurrent(app, env)) !== undefined) return false;
      if ((await store.listReleases(app, env)).length > 0) return false;
    }
  }
  return true;
}

/**
 * Pure: how to start, from whether the store is new, the earlier state found (only looked for when
 * it is), and the user's choice. Throws FERRY_E_STORE_LOST when a new store meets earlier state and
 * the user chose nothing, FERRY_E_USAGE when --adopt or --reset is given for a store that is not lost.
 */
export function chooseStartMode(input: {
  readonly storeNew: boolean;
  readonly earlier: EarlierState | null;
  readonly recovery: Recovery | undefined;
  readonly paths: DaemonPaths;
  /** Where the control plane's records are, as the messages name it (control.db by default). */
  readonly store?: string;
}): StartMode {
  const { storeNew, earlier, recovery, paths } = input;
  const store = input.store ?? paths.kv;
  if (!storeNew) {
    if (recovery === undefined) return 'resume';
    throw new FerryError(
      'FERRY_E_USAGE',
      `--${recovery} is for a lost store, but the store ${store} holds Ferry's state (deployments, releases): nothing to ${recovery}. Run ferry up without --${recovery}`,
      { where: store, expected: 'a new or missing store', got: 'a store with state' },
    );
  }
  if (recovery !== undefined) return recovery;
  if (earlier === null || !hasEarlierState(earlier)) return 'fresh';
  throw storeLost(paths, store, earlier);
}

function storeLost(paths: DaemonPaths, store: string, earlier: EarlierState): FerryError {
  const found = describeEarlierState(earlier);
  return new FerryError(
    'FERRY_E_STORE_LOST',
    [
      `the store ${store} is new (missing, or without any deployment or release), but ${paths.home} shows that Ferry ran here before:`,
      ...found.map((line) => `  - ${line}`),
      'Starting as a fresh install would stop what runs and deploy initial releases over it. Nothing was changed. Start again with one of:',
      '  ferry up --adopt   take over what runs: instances, their release as current (marked good, "adopted"), routes as they are; nothing is stopped or deployed',
      '  ferry up --reset   stop those instances and the router, clear the routing table, then start as a fresh install (release directories are kept)',
    ].join('\n'),
    {
      where: store,
      found,
      instances: earlier.processes.map((p) => ({ pid: p.pid, instance: p.instanceId })),
    },
  );
}

/** One line per kind of earlier state found, for the message. */
export function describeEarlierState(earlier: EarlierState): string[] {
  const lines: string[] = [];
  if (earlier.processes.length > 0) {
    const groups = new Map<string, number[]>();
    for (const p of earlier.processes) {
      const what = p.labels
        ? `${p.labels.app} ${p.labels.env} ${p.labels.version}`
        : `instance ${p.instanceId}`;
      groups.set(what, [...(groups.get(what) ?? []), p.pid]);
    }
    const listed = [...groups].map(
      ([what, pids]) => `${what} (pids ${pids.sort((a, b) => a - b).join(', ')})`,
    );
    lines.push(
      `${earlier.processes.length} instance process(es) of this data directory: ${listed.join('; ')}`,
    );
  }
  if (earlier.routes.length > 0)
    lines.push(`routes in router/routes.json: ${earlier.routes.map((r) => r.name).join(', ')}`);
  if (earlier.releaseDirs.length > 0) lines.push(`release directories: ${earlier.releaseDirs.join(', ')}`);
  if (earlier.routerPid !== null) lines.push(`a live router (pid ${earlier.routerPid})`);
  return lines;
}

function subdirectories(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'))
      .map((entry) => entry.name)
      .sort();
  } catch {
    return [];
  }
}
