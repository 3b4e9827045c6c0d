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
import type { ExcludeMatcher } from './excludes.js';

export interface SyncStats {
  copied: number;
  deleted: number;
  unchanged: number;
}

export interface SyncOptions {
  signal?: AbortSignal;
  /**
   * src is a staging tree on dest's filesystem that nobody needs afterwards: files that differ are
   * moved into dest by rename (one atomic step, no copy) instead of copied.
   */
  consumeSource?: boolean;
}

const CONCURRENCY = 16;

/**
 * Makes dest like `rsync -a --delete src/ dest/`: files whose size or mtime differ are copied
 * (through a temp name, then renamed, so a reader never sees half a file) or moved, modes, mtimes
 * and symlinks are preserved, entries absent from src are deleted. Excluded entries are neither
 * copied nor deleted (rsync's receiver-side protection). Ownership is not changed.
 */
export async function syncTree(
  src: string,
  dest: string,
  isExcluded: ExcludeMatcher,
  options: SyncOptions = {},
): Promise<SyncStats> {
  const stats: SyncStats = { copied: 0, deleted: 0, unchanged: 0 };
  const root = await lstat(src);
  await ensureDirectory(dest);
  await syncDirectory(src, dest, '', isExcluded, stats, options);
  await chmod(dest, root.mode & 0o7777);
  await utimes(dest, root.atime, root.mtime);
  return stats;
}

async function syncDirectory(
  src: string,
  dest: string,
  relative: string,
  isExcluded: ExcludeMatcher,
  stats: SyncStats,
  options: SyncOptions,
): Promise<void> {
  options.signal?.throwIfAborted();
  const [sourceEntries, destEntries] = await Promise.all([
    readdir(src, { withFileTypes: true }),
    readdir(dest, { withFileTypes: true }),
  ]);
  const wanted = new Set<string>();
  const destNames = new Set(destEntries.map((entry) => entry.name));
  const work: (() => Promise<void>)[] = [];
  for (const entry of sourceEntries) {
    const rel = relative === '' ? entry.name : `${relative}/${entry.name}`;
    if (isExcluded(rel, entry.isDirectory())) continue;
    wanted.add(entry.name);
    const inDest = destNames.has(entry.name);
    work.push(() =>
      syncEntry(
        join(src, entry.name),
        join(dest, entry.name),
        rel,
        entry,
        inDest,
        isExcluded,
        stats,
        options,
      ),
    );
  }
  for (const entry of destEntries) {
    if (wanted.has(entry.name)) continue;
    const rel = relative === '' ? entry.name : `${relative}/${entry.name}`;
    if (isExcluded(rel, entry.isDirectory())) continue;
    work.push(async () => {
      await rm(join(dest, entry.name), { recursive: true, force: true });
      stats.deleted++;
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
  isExcluded: ExcludeMatcher,
  stats: SyncStats,
  options: SyncOptions,
): Promise<void> {
  options.signal?.throwIfAborted();
  // A name the dest listing does not have needs no lstat (the first sync of a tree is all such).
  const [source, existing] = await Promise.all([lstat(src), inDest ? lstat(dest).catch(() => null) : null]);
  if (entry.isDirectory()) {
    if (existing && !existing.isDirectory()) await rm(dest, { force: true });
    if (!existing?.isDirectory()) await mkdir(dest);
    await syncDirectory(src, dest, relative, isExcluded, stats, options);
    await chmod(dest, source.mode & 0o7777);
    await utimes(dest, source.atime, source.mtime);
    return;
  }
  if (entry.isSymbolicLink()) {
    const target = await readlink(src);
    if (existing?.isSymbolicLink() && (await readlink(dest)) === target) {
      stats.unchanged++;
      return;
    }
    const temp = tempName(dest);
    await symlink(target, temp);
    await lutimes(temp, source.atime, source.mtime).catch(() => undefined);
    await replace(temp, dest, existing);
    stats.copied++;
    return;
  }
  if (!entry.isFile()) return; // devices, sockets, fifos: not part of a release
  if (existing?.isFile() && isSameFile(source, existing)) {
    if ((existing.mode & 0o7777) !== (source.mode & 0o7777)) await chmod(dest, source.mode & 0o7777);
    stats.unchanged++;
    return;
  }
  if (options.consumeSource === true) {
    // The inode moves with its mode and mtimes; rename replaces a file atomically.
    await replace(src, dest, existing);
    stats.copied++;
    return;
  }
  const temp = tempName(dest);
  await copyFile(src, temp);
  await chmod(temp, source.mode & 0o7777);
  await utimes(temp, source.atime, source.mtime);
  await replace(temp, dest, existing);
  stats.copied++;
}

/** rsync's quick check: same size and same modification time (to the second, as rsync compares). */
function isSameFile(a: Stats, b: Stats): boolean {
  return a.size === b.size && Math.floor(a.mtimeMs / 1000) === Math.floor(b.mtimeMs / 1000);
}

async function replace(temp: string, dest: string, existing: Stats | null): Promise<void> {
  if (existing?.isDirectory()) await rm(dest, { recursive: true, force: true });
  await rename(temp, dest);
}

function tempName(path: string): string {
  const slash = path.lastIndexOf('/');
  return `${path.slice(0, slash + 1)}.${path.slice(slash + 1)}.ferry-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

async function ensureDirectory(path: string): Promise<void> {
  const existing = await lstat(path).catch(() => null);
  if (existing && !existing.isDirectory()) await rm(path, { force: true });
  if (!existing?.isDirectory()) await mkdir(path, { recursive: true });
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
