import type Database from 'better-sqlite3';
import { FerryError, messageOf } from '../../errors/ferry-error.js';
import { sqliteCode, toStoreError } from './errors.js';

/** At most this many problems are read from the check: enough to show, bounded on a wrecked file. */
const MAX_PROBLEMS = 10;

/**
 * What to do about a damaged ferry.db (another store file passes its own advice). It holds the
 * host's instance records (pids): the releases and deployments are in the key-value store.
 */
const STATE_STORE_RECOVERY =
  'Restore it from a backup, or stop the instances of this data directory, move it aside (with ' +
  '{path}-wal and {path}-shm if present) and run ferry up again: it only keeps which instances run ' +
  "here, and the deployments' records are not in it";

/**
 * Checks the store file's structure (PRAGMA quick_check: every page, every b-tree) when it is opened,
 * so damage is found before the daemon acts on the store rather than by some later query.
 * FERRY_E_STORE_DAMAGED when it finds anything.
 */
export function assertIntact(db: Database.Database, path: string, recovery = STATE_STORE_RECOVERY): void {
  const rows = db.pragma(`quick_check(${MAX_PROBLEMS})`) as Array<{ quick_check: string }>;
  const problems = rows
    .flatMap((row) => row.quick_check.split('\n'))
    .filter((line) => line !== 'ok' && !line.startsWith('***'));
  if (problems.length === 0) return;
  const more = problems.length > 3 ? ` and ${problems.length - 3} more` : '';
  throw storeDamaged(path, `${problems.slice(0, 3).join('; ')}${more}`, recovery);
}

/**
 * How a failure to open the store reads: damage and a full disk get their own codes. `recovery`
 * says what to do about a damaged file ({path} stands for its path).
 */
export function openError(error: unknown, path: string, recovery = STATE_STORE_RECOVERY): FerryError {
  const code = sqliteCode(error) ?? '';
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB')
    return storeDamaged(path, messageOf(error), recovery, error);
  if (code === 'SQLITE_FULL') {
    return new FerryError(
      'FERRY_E_DISK_FULL',
      `the store ${path} cannot be opened: the disk is full. Free some space, then start again`,
      { where: path, sqliteCode: code },
      { cause: error },
    );
  }
  return toStoreError(error, path, 'open');
}

function storeDamaged(path: string, found: string, recovery: string, cause?: unknown): FerryError {
  return new FerryError(
    'FERRY_E_STORE_DAMAGED',
    `the store ${path} is damaged (its integrity check found: ${found}); Ferry did not use it. ` +
      recovery.replaceAll('{path}', path),
    { where: path, expected: 'a store that passes PRAGMA quick_check', got: found },
    cause === undefined ? undefined : { cause },
  );
}
