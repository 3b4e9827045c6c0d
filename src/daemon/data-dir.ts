import {
  accessSync,
  chmodSync,
  constants,
  existsSync,
  mkdirSync,
  readdirSync,
  statSync,
  statfsSync,
} from 'node:fs';
import path from 'node:path';
import { FerryError, messageOf } from '../errors/ferry-error.js';
import { resolveRealPath } from '../lib/real-path.js';

/**
 * Files only Ferry puts in a data directory: an existing, non-empty directory holding none of them is
 * someone else's (a home directory, a project) and is neither used nor chmod'ed.
 */
const FERRY_FILES = [
  'ferry.db',
  'ferry.db-wal',
  'control.db',
  'control.db-wal',
  'api-token',
  'daemon.json',
  'daemon.lock',
  'daemon.log',
  'router/routes.json',
  'router/router.log',
  // A `ferry agent`'s.
  'agent.json',
  'agent-credential',
  'server-ca.pem',
];

/** Less free space than this and the daemon would fail later, in the middle of something. */
export const MIN_FREE_BYTES = 1024 * 1024;

/** What the data directory is before the daemon touches it. */
export type DataDirState = 'missing' | 'empty' | 'ferry';

/**
 * The permission bits of the data directory: owner-only, since it holds the API token and the
 * store. The one place that decides it.
 */
export function dataDirMode(): number {
  return 0o700;
}

/**
 * Checks the data directory without changing anything: it is missing, empty or Ferry's (not someone
 * else's), writable, and not on a full disk. FERRY_E_DATA_DIR or FERRY_E_DISK_FULL otherwise.
 */
export function inspectDataDir(home: string): DataDirState {
  const state = classify(home);
  const existing = state === 'missing' ? nearestExistingAncestor(home) : home;
  assertWritable(home, existing);
  assertFreeSpace(home, existing);
  return state;
}

/**
 * Makes the directory Ferry's: created (with its parents) if missing, given dataDirMode(). Checks that
 * it still is the directory the lock was taken for (`realHome`), not a symlink swapped in meanwhile.
 */
export function prepareDataDir(home: string, realHome: string): void {
  withDataDirWrites(home, () => mkdirSync(home, { recursive: true, mode: dataDirMode() }));
  const real = resolveRealPath(home);
  if (real !== realHome) {
    throw new FerryError(
      'FERRY_E_DATA_DIR',
      `the data directory ${home} changed while Ferry started: expected it to be ${realHome}, got ${real}`,
      { where: home, expected: realHome, got: real },
    );
  }
  // mkdir's mode is filtered by the umask: set it whole.
  withDataDirWrites(home, () => chmodSync(home, dataDirMode()));
}

/**
 * Runs writes into the data directory, turning a read-only or unwritable directory into
 * FERRY_E_DATA_DIR and a full disk into FERRY_E_DISK_FULL; other failures pass unchanged.
 */
export function withDataDirWrites<T>(home: string, write: () => T): T {
  try {
    return write();
  } catch (error) {
    throw writeError(home, error) ?? error;
  }
}

function classify(home: string): DataDirState {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(home).isDirectory();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw dataDirError(home, `cannot be read (${messageOf(error)})`, error);
  }
  if (!isDirectory) throw dataDirError(home, 'is not a directory');
  let entries: string[];
  try {
    // A file system's lost+found: a dedicated mount point is still an empty directory.
    entries = readdirSync(home)
      .filter((name) => name !== 'lost+found')
      .sort();
  } catch (error) {
    throw dataDirError(home, `cannot be listed (${messageOf(error)})`, error);
  }
  if (entries.length === 0) return 'empty';
  if (FERRY_FILES.some((file) => existsSync(path.join(home, file)))) return 'ferry';
  const shown = entries.slice(0, 5).join(', ') + (entries.length > 5 ? ` (${entries.length} entries)` : '');
  throw new FerryError(
    'FERRY_E_DATA_DIR',
    `the data directory ${home} is not Ferry's: it holds ${shown} and none of Ferry's files (control.db, ferry.db, api-token, daemon.json...), so Ferry left it as it is. Use a new or empty directory (data_dir in ferry.yaml, --home or FERRY_HOME)`,
    { where: home, expected: 'a new, empty or Ferry data directory', got: shown },
  );
}

function assertWritable(home: string, existing: string): void {
  try {
    accessSync(existing, constants.W_OK | constants.X_OK);
  } catch (error) {
    throw (
      writeError(home, error, existing) ?? dataDirError(home, `is not usable (${messageOf(error)})`, error)
    );
  }
}

function assertFreeSpace(home: string, existing: string): void {
  let free: number;
  try {
    const stats = statfsSync(existing);
    free = stats.bavail * stats.bsize;
  } catch {
    return; // no statfs here: a full disk still shows as ENOSPC on the first write
  }
  if (free >= MIN_FREE_BYTES) return;
  throw new FerryError(
    'FERRY_E_DISK_FULL',
    `the data directory ${home} is on a full disk: ${Math.floor(free / 1024)} KiB free, Ferry needs at least ${MIN_FREE_BYTES / 1024 / 1024} MiB to start. Free some space, then run ferry up again`,
    { where: home, expected: `at least ${MIN_FREE_BYTES} bytes free`, got: `${free} bytes free` },
  );
}

/** The FerryError for a failed write into the data directory, or undefined when it is another failure. */
function writeError(home: string, error: unknown, existing = home): FerryError | undefined {
  const code = (error as NodeJS.ErrnoException).code;
  const where = existing === home ? '' : ` (it would be created in ${existing})`;
  if (code === 'EROFS') return dataDirError(home, `is on a read-only file system${where}`, error);
  if (code === 'EACCES' || code === 'EPERM')
    return dataDirError(
      home,
      `is not writable by this user (uid ${process.getuid?.() ?? '?'})${where}`,
      error,
    );
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new FerryError(
      'FERRY_E_DISK_FULL',
      `the data directory ${home} is on a full disk (${code})${where}. Free some space, then run ferry up again`,
      { where: home, got: code },
      { cause: error },
    );
  }
  return undefined;
}

function dataDirError(home: string, problem: string, cause?: unknown): FerryError {
  return new FerryError(
    'FERRY_E_DATA_DIR',
    `the data directory ${home} ${problem}. Fix it, or point Ferry at another directory (data_dir in ferry.yaml, --home or FERRY_HOME)`,
    { where: home, got: problem },
    cause === undefined ? undefined : { cause },
  );
}

function nearestExistingAncestor(home: string): string {
  let current = path.dirname(path.resolve(home));
  while (!existsSync(current) && path.dirname(current) !== current) current = path.dirname(current);
  return current;
}
