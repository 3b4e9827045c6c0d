import { runsOnThisHost } from '../config/resolve.js';
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { FerryConfig } from '../config/types.js';
import { FerryError, messageOf } from '../errors/ferry-error.js';
import type { RunAccount } from '../supervisor/index.js';
import type { DaemonPaths } from './paths.js';

/** Files only Ferry may read: the API token, the stores (with their WALs), the daemon's own files. */
const PRIVATE_FILES = [
  'api-token',
  'ferry.db',
  'ferry.db-wal',
  'ferry.db-shm',
  'control.db',
  'control.db-wal',
  'control.db-shm',
  'daemon.json',
  'daemon.log',
];

/**
 * Sets the data directory's modes for who may read what. Without app accounts (run.user) it is
 * owner-only (0700). With them, an app's processes must reach their release directory but nothing
 * else: the data directory and the path to each releases dir become traversable but not listable
 * (0711), while the token and the stores (0600) and router/, agent/, cache/ and each logs/ (0700)
 * stay Ferry's.
 * Throws FERRY_E_DATA_DIR when a directory above the data directory keeps an app account out.
 */
export function protectDataDir(
  paths: DaemonPaths,
  config: FerryConfig,
  accounts: ReadonlyMap<string, RunAccount>,
): void {
  const shared = accounts.size > 0;
  for (const name of PRIVATE_FILES) chmodIfExists(path.join(paths.home, name), 0o600);
  ensureMode(paths.routerDir, 0o700);
  // The embedded agent's kept desired state names every app's releases and tasks.
  ensureMode(paths.agentDir, 0o700);
  ensureMode(path.join(paths.home, 'cache'), 0o700);
  for (const [appName, app] of Object.entries(config.apps)) {
    for (const env of Object.keys(app.environments)) {
      // An environment on enrolled hosts has nothing on this one.
      if (!runsOnThisHost(config, env)) continue;
      const dir = paths.appDir(appName, env);
      if (shared) {
        for (const step of [path.dirname(path.dirname(dir)), path.dirname(dir), dir]) ensureMode(step, 0o711);
        ensureMode(path.join(dir, 'releases'), 0o711);
      }
      ensureMode(path.join(dir, 'logs'), 0o700);
    }
  }
  chmodSync(paths.home, shared ? 0o711 : 0o700);
  for (const [appName, account] of accounts) assertReachable(paths.home, account, appName);
}

/** Every directory above the data directory must let the account through (search permission). */
function assertReachable(home: string, account: RunAccount, appName: string): void {
  if (account.uid === 0) return; // root searches everything
  for (let dir = path.dirname(home); ; dir = path.dirname(dir)) {
    const stat = statSync(dir);
    const mode = stat.mode;
    const searchable =
      stat.uid === account.uid
        ? (mode & 0o100) !== 0
        : stat.gid === account.gid
          ? (mode & 0o010) !== 0
          : (mode & 0o001) !== 0;
    if (!searchable) {
      const got = `${dir} is mode ${(mode & 0o777).toString(8).padStart(4, '0')}, owned by uid ${stat.uid}`;
      throw new FerryError(
        'FERRY_E_DATA_DIR',
        `apps.${appName}.run.user: expected user ${account.name} (uid ${account.uid}) to reach the data directory ${home}, got ${got}; allow it through (chmod o+x ${dir}) or move data_dir`,
        { where: dir, expected: `a directory uid ${account.uid} may search`, got },
      );
    }
    if (dir === path.dirname(dir)) return;
  }
}

function ensureMode(dir: string, mode: number): void {
  try {
    mkdirSync(dir, { recursive: true, mode });
    chmodSync(dir, mode);
  } catch (error) {
    throw new FerryError(
      'FERRY_E_DATA_DIR',
      `cannot prepare ${dir}: expected a directory Ferry owns, got ${messageOf(error)}`,
      { where: dir },
      { cause: error },
    );
  }
}

function chmodIfExists(file: string, mode: number): void {
  try {
    chmodSync(file, mode);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
