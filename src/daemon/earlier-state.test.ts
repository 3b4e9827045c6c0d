import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { isFerryError } from '../errors/ferry-error.js';
import { RELEASE_RECORD } from '../artifacts/index.js';
import { saveRouteTable } from '../router/route-table-file.js';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';
import {
  chooseStartMode,
  describeEarlierState,
  findEarlierState,
  isStoreNew,
  type EarlierState,
} from './earlier-state.js';
import { daemonPaths } from './paths.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'ferry-earlier-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const paths = daemonPaths('/var/lib/ferry');
const nothing: EarlierState = { processes: [], routes: [], releaseDirs: [], routerPid: null };
const found: EarlierState = {
  processes: [
    {
      pid: 12,
      pidStart: 1,
      instanceId: 'web-1.1.0-b',
      labels: { app: 'web', env: 'production', version: '1.1.0', port: 4001 },
    },
    {
      pid: 11,
      pidStart: 1,
      instanceId: 'web-1.1.0-a',
      labels: { app: 'web', env: 'production', version: '1.1.0', port: 4000 },
    },
    { pid: 13, pidStart: 1, instanceId: 'odd', labels: null },
  ],
  routes: [{ name: 'web.production', listen: { host: '127.0.0.1', port: 8080 }, backends: [] }],
  releaseDirs: ['apps/web/production/releases/1.1.0'],
  routerPid: 99,
};

describe('chooseStartMode', () => {
  it('resumes from a store with state, starts fresh on a new store with nothing found, and takes the user’s choice on a lost one', () => {
    expect(chooseStartMode({ storeNew: false, earlier: null, recovery: undefined, paths })).toBe('resume');
    expect(chooseStartMode({ storeNew: true, earlier: nothing, recovery: undefined, paths })).toBe('fresh');
    expect(chooseStartMode({ storeNew: true, earlier: found, recovery: 'adopt', paths })).toBe('adopt');
    expect(chooseStartMode({ storeNew: true, earlier: found, recovery: 'reset', paths })).toBe('reset');
    expect(chooseStartMode({ storeNew: true, earlier: nothing, recovery: 'adopt', paths })).toBe('adopt');
  });

  it('refuses a new store on a data directory with earlier state, naming what it found and the ways out', () => {
    let error: unknown;
    try {
      chooseStartMode({ storeNew: true, earlier: found, recovery: undefined, paths });
    } catch (caught) {
      error = caught;
    }
    if (!isFerryError(error, 'FERRY_E_STORE_LOST'))
      throw new Error(`expected FERRY_E_STORE_LOST, got ${String(error)}`);
    expect(error.message.split('\n')).toEqual([
      'the store /var/lib/ferry/control.db is new (missing, or without any deployment or release), but /var/lib/ferry shows that Ferry ran here before:',
      '  - 3 instance process(es) of this data directory: web production 1.1.0 (pids 11, 12); instance odd (pids 13)',
      '  - routes in router/routes.json: web.production',
      '  - release directories: apps/web/production/releases/1.1.0',
      '  - a live router (pid 99)',
      'Starting as a fresh install would stop what runs and deploy initial releases over it. Nothing was changed. Start again with one of:',
      '  ferry up --adopt   take over what runs: instances, their release as current (marked good, "adopted"), routes as they are; nothing is stopped or deployed',
      '  ferry up --reset   stop those instances and the router, clear the routing table, then start as a fresh install (release directories are kept)',
    ]);
  });

  it('refuses --adopt and --reset on a store that is not lost', () => {
    for (const recovery of ['adopt', 'reset'] as const) {
      expect(() => chooseStartMode({ storeNew: false, earlier: null, recovery, paths })).toThrow(
        `--${recovery} is for a lost store, but the store /var/lib/ferry/control.db holds Ferry's state`,
      );
    }
  });

  it('describes nothing when nothing was found', () => {
    expect(describeEarlierState(nothing)).toEqual([]);
  });
});

describe('findEarlierState', () => {
  it('finds installed releases and saved routes, and nothing in an empty directory', async () => {
    const home = path.join(dir, 'home');
    expect(await findEarlierState(daemonPaths(home))).toEqual(nothing);
    const release = path.join(home, 'apps', 'web', 'production', 'releases', '1.1.0');
    mkdirSync(release, { recursive: true });
    writeFileSync(
      path.join(release, RELEASE_RECORD),
      JSON.stringify({ version: '1.1.0', checksum: 'sha256:ab', installedAt: '2024-01-01T00:00:00Z' }),
    );
    mkdirSync(path.join(home, 'apps', 'web', 'production', 'releases', '.tmp-partial'));
    mkdirSync(path.join(home, 'router'), { recursive: true });
    saveRouteTable(path.join(home, 'router'), [found.routes[0]!]);
    const earlier = await findEarlierState(daemonPaths(home));
    expect(earlier.releaseDirs).toEqual(['apps/web/production/releases/1.1.0']);
    expect(earlier.routes.map((r) => r.name)).toEqual(['web.production']);
    expect(earlier.processes).toEqual([]);
    expect(earlier.routerPid).toBeNull();
  });
});

describe('isStoreNew', () => {
  const config = parseConfig(
    'apps:\n  web:\n    artifact: { url: "file:///r/web-{version}.tgz" }\n    run: { command: node }\n    listen: "127.0.0.1:8080"\n',
    { configPath: null, env: { FERRY_HOME: '/var/lib/ferry' } },
  );

  it('is true for an empty store, false once it records a release, a current release or an audit entry', async () => {
    const store = openSqliteStore(':memory:');
    expect(await isStoreNew(store, config)).toBe(true);
    await store.audit({ at: 1, actor: 'ferry up', action: 'reset', target: 'data directory' });
    expect(await isStoreNew(store, config)).toBe(false);
    await store.close();

    const other = openSqliteStore(':memory:');
    await other.setCurrent('web', 'production', '1.0.0');
    expect(await isStoreNew(other, config)).toBe(false);
    await other.close();
  });
});
