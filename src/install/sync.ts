import type { Dirent, Stats } from 'node:fs';
import {
  chmod,
  copyFile,
  lstat,
  lutimes,
  mkdir,
  readdir,
  readlink,
  rename,
  rm,
  rmdir,
  symlink,
  utimes,
} from 'node:fs/promises';
import { join } from 'node:path';
import { FerryError } from '../errors/ferry-error.js';
import type { DecidingRule, ExcludeMatcher } from './excludes.js';
import { OwnershipPolicy } from './ownership.js';

export interface SyncStats {
  copied: number;
  deleted: number;
  unchanged: number;
}

/**
 * One entry the sync changed or checked, as `rsync -v` lists them (and -vv: those up to date, and
 * the filter rule that decided an entry).
 */
export type SyncChange =
  | {
      action: 'transfer' | 'delete' | 'uptodate';
      /** Below the transfer root, `a/b`; a directory's ends with `/` as rsync prints it. */
      path: string;
      /** A symlink's target. */
      target?: string;
    }
  | {
      /** A rule matched a release entry (hide: not copied) or a dest entry (protect: not deleted). */
      action: 'filter';
      side: 'release' | 'dest';
      path: string;
      isDirectory: boolean;
      rule: DecidingRule;
    };

export interface SyncOptions {
  signal?: AbortSignal;
  /** Told of every entry as it is handled (in no set order: the sync works on many at once). */
  onChange?: (change: SyncChange) => void;
  /**
   * src is a staging tree on dest's filesystem that nobody needs afterwards: files that differ are
   * moved into dest by rename (one atomic step, no copy) instead of copied.
   */
  consumeSource?: boolean;
}

/** What every step of one sync shares. */
interface SyncRun {
  isExcluded: ExcludeMatcher;
  options: SyncOptions;
  owners: OwnershipPolicy;
  stats: SyncStats;
  /** Entries rsync would report and go on past (exit code 23); the sync fails once it is done. */
  blocked: string[];
}

const CONCURRENCY = 16;

/**
 * Makes dest like `rsync -a --delete src/ dest/`: files whose size or mtime differ are copied
 * (through a temp name, then renamed, so a reader never sees half a file) or moved, modes, mtimes,
 * symlinks and owners (as `rsync -a` keeps them: see OwnershipPolicy) are preserved, entries absent
 * from src are deleted. Excluded entries are neither copied nor deleted (rsync's receiver-side
 * protection), not even inside a directory being deleted, which then stays. Hard-linked files of
 * src become separate files, as `rsync -a` (without -H) makes them.
 */
export async function syncTree(
  src: string,
  dest: string,
  isExcluded: ExcludeMatcher,
  options: SyncOptions = {},
): Promise<SyncStats> {
  const run: SyncRun = {
    isExcluded,
    options,
    owners: OwnershipPolicy.forThisProcess(),
    stats: { copied: 0, deleted: 0, unchanged: 0 },
    blocked: [],
  };
  const root = await lstat(src);
  const existing = await ensureDirectory(dest);
  await syncDirectory(src, dest, '', run);
  await run.owners.apply(dest, root, existing);
  await chmod(dest, root.mode & 0o7777);
  await utimes(dest, root.atime, root.mtime);
  if (run.blocked.length > 0) {
    const [first] = run.blocked;
    throw new FerryError(
      'FERRY_E_DEST_NOT_EMPTY',
      `rsync strategy: cannot replace the directory ${first} of ${dest} by the release's file: it holds excluded entries, which are kept${run.blocked.length > 1 ? ` (and ${run.blocked.length - 1} more)` : ''}`,
      {
        where: join(dest, first ?? ''),
        expected: 'a directory without excluded entries',
        got: 'excluded entries',
      },
    );
  }
  return run.stats;
}

async function syncDirectory(src: string, dest: string, relative: string, run: SyncRun): Promise<void> {
  run.options.signal?.throwIfAborted();
  const [sourceEntries, destEntries] = await Promise.all([
    readdir(src, { withFileTypes: true }),
    readdir(dest, { withFileTypes: true }),
  ]);
  const wanted = new Set<string>();
  const destNames = new Set(destEntries.map((entry) => entry.name));
  const work: (() => Promise<void>)[] = [];
  for (const entry of sourceEntries) {
    const rel = relative === '' ? entry.name : `${relative}/${entry.name}`;
    if (isExcluded(run, 'release', rel, entry.isDirectory())) continue;
    wanted.add(entry.name);
    const inDest = destNames.has(entry.name);
    work.push(() => syncEntry(join(src, entry.name), join(dest, entry.name), rel, entry, inDest, run));
  }
  for (const entry of destEntries) {
    if (wanted.has(entry.name)) continue;
    const rel = relative === '' ? entry.name : `${relative}/${entry.name}`;
    if (isExcluded(run, 'dest', rel, entry.isDirectory())) continue;
    work.push(async () => {
      await deleteEntry(join(dest, entry.name), rel, entry.isDirectory(), run);
    });
  }
  await runLimited(work, CONCURRENCY);
}

async function syncEntry(
  src: string,
  dest: string,
  relative: string,
  entry: Dirent,
  inDest: boolean,
  run: SyncRun,
): Promise<void> {
  run.options.signal?.throwIfAborted();
  const { owners, stats } = run;
  // A name the dest listing does not have needs no lstat (the first sync of a tree is all such).
  const [source, existing] = await Promise.all([lstat(src), inDest ? lstat(dest).catch(() => null) : null]);
  if (entry.isDirectory()) {
    if (existing && !existing.isDirectory() && !(await makeRoom(dest, relative, existing, run))) return;
    const kept = existing?.isDirectory() === true ? existing : null;
    if (kept === null) {
      await mkdir(dest);
      note(run, 'transfer', `${relative}/`);
    }
    await syncDirectory(src, dest, relative, run);
    await owners.apply(dest, source, kept);
    await chmod(dest, source.mode & 0o7777);
    await utimes(dest, source.atime, source.mtime);
    return;
  }
  if (entry.isSymbolicLink()) {
    const target = await readlink(src);
    if (existing?.isSymbolicLink() && (await readlink(dest)) === target) {
      await owners.apply(dest, source, existing);
      stats.unchanged++;
      note(run, 'uptodate', relative);
      return;
    }
    if (existing?.isDirectory() && !(await makeRoom(dest, relative, existing, run))) return;
    const temp = tempName(dest);
    await symlink(target, temp);
    await owners.apply(temp, source, null);
    await lutimes(temp, source.atime, source.mtime).catch(() => undefined);
    await rename(temp, dest);
    stats.copied++;
    run.options.onChange?.({ action: 'transfer', path: relative, target });
    return;
  }
  if (!entry.isFile()) return; // devices, sockets, fifos: not part of a release
  if (existing?.isFile() && isSameFile(source, existing)) {
    // Owner first: a chown clears setuid and setgid bits, which the chmod then restores.
    await owners.apply(dest, source, existing);
    if ((existing.mode & 0o7777) !== (source.mode & 0o7777)) await chmod(dest, source.mode & 0o7777);
    stats.unchanged++;
    note(run, 'uptodate', relative);
    return;
  }
  if (existing?.isDirectory() && !(await makeRoom(dest, relative, existing, run))) return;
  // A hard-linked file is copied: moved in, its other names would share dest's inode, and rsync -a
  // (without -H) makes each name a file of its own.
  if (run.options.consumeSource === true && source.nlink === 1 && owners.keepsOwnerWhenMoved(source)) {
    // The inode moves with its owner, mode and mtimes; rename replaces a file atomically.
    await rename(src, dest);
    stats.copied++;
    note(run, 'transfer', relative);
    return;
  }
  const temp = tempName(dest);
  await copyFile(src, temp);
  await owners.apply(temp, source, null);
  await chmod(temp, source.mode & 0o7777);
  await utimes(temp, source.atime, source.mtime);
  await rename(temp, dest);
  stats.copied++;
  note(run, 'transfer', relative);
}

/** rsync's quick check: same size and same modification time (to the second, as rsync compares). */
function isSameFile(a: Stats, b: Stats): boolean {
  return a.size === b.size && Math.floor(a.mtimeMs / 1000) === Math.floor(b.mtimeMs / 1000);
}

/**
 * Removes what stands where an entry of another type goes. A directory holding excluded entries
 * stays (rsync: "could not make way"): the entry is skipped and the sync fails once done.
 */
async function makeRoom(dest: string, relative: string, existing: Stats, run: SyncRun): Promise<boolean> {
  if (!existing.isDirectory()) {
    await rm(dest, { force: true });
    return true;
  }
  if (await deleteEntry(dest, relative, true, run)) return true;
  run.blocked.push(relative);
  return false;
}

/**
 * Deletes a dest entry the release does not have. A directory goes entry by entry: excluded ones
 * are protected there too, and a directory left non-empty stays (rsync: "cannot delete non-empty
 * directory"). True when it is gone.
 */
async function deleteEntry(
  path: string,
  relative: string,
  isDirectory: boolean,
  run: SyncRun,
): Promise<boolean> {
  if (isDirectory) {
    let kept = false;
    for (const entry of await readdir(path, { withFileTypes: true })) {
      const rel = `${relative}/${entry.name}`;
      const isDir = entry.isDirectory();
      if (
        isExcluded(run, 'dest', rel, isDir) ||
        !(await deleteEntry(join(path, entry.name), rel, isDir, run))
      )
        kept = true;
    }
    if (kept) return false;
    await rmdir(path);
  } else {
    await rm(path, { force: true });
  }
  run.stats.deleted++;
  note(run, 'delete', isDirectory ? `${relative}/` : relative);
  return true;
}

/** Whether the rules exclude an entry; the rule that decided is told to onChange. */
function isExcluded(run: SyncRun, side: 'release' | 'dest', path: string, isDirectory: boolean): boolean {
  const { onChange } = run.options;
  const rule = onChange ? run.isExcluded.ruleFor?.(path, isDirectory) : undefined;
  if (rule) onChange?.({ action: 'filter', side, path, isDirectory, rule });
  return rule ? !rule.include : run.isExcluded(path, isDirectory);
}

function note(run: SyncRun, action: 'transfer' | 'delete' | 'uptodate', path: string): void {
  run.options.onChange?.({ action, path });
}

function tempName(path: string): string {
  const slash = path.lastIndexOf('/');
  return `${path.slice(0, slash + 1)}.${path.slice(slash + 1)}.ferry-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Makes path a directory; returns its stat when it already was one, null when it was made. */
async function ensureDirectory(path: string): Promise<Stats | null> {
  const existing = await lstat(path).catch(() => null);
  if (existing?.isDirectory()) return existing;
  if (existing) await rm(path, { force: true });
  await mkdir(path, { recursive: true });
  return null;
}

async function runLimited(tasks: readonly (() => Promise<void>)[], limit: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length) {
      const task = tasks[next++];
      if (task) await task();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
}

/**
 * The mv strategy: the staged tree becomes dest by one rename. A dest that exists must be an empty
 * directory (it is replaced); anything else is refused.
 */
export async function moveTree(staged: string, dest: string): Promise<void> {
  const existing = await lstat(dest).catch(() => null);
  if (existing) {
    const entries = existing.isDirectory() ? await readdir(dest) : ['(not a directory)'];
    if (entries.length > 0) {
      throw new FerryError('FERRY_E_DEST_NOT_EMPTY', `mv strategy: dest ${dest} exists and is not empty`, {
        where: dest,
        expected: 'no dest, or an empty directory',
      });
    }
    await rmdir(dest);
  }
  await rename(staged, dest);
}
