import { createHash } from 'node:crypto';
import {
  chmod,
  lchown,
  link,
  lstat,
  mkdir,
  readFile,
  readdir,
  readlink,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** Every file gets this mtime unless it says otherwise, so rsync's quick check is deterministic. */
export const FIXED_MTIME = new Date('2024-01-02T03:04:05Z');

interface Owned {
  uid?: number;
  gid?: number;
}

/**
 * One entry of a tree built from an object: a string is a file's content; otherwise a file (with a
 * mode, an mtime, an owner), a directory, a symlink, or a hard link to an earlier path.
 */
export type EntrySpec =
  | string
  | ({ file: string; mode?: number; mtime?: Date } & Owned)
  | ({ dir: number } & Owned)
  | ({ symlink: string } & Owned)
  | { hardlink: string };

export type TreeSpec = Record<string, EntrySpec>;

/** Builds spec under root, in the object's order (parents implied, mode 0755). */
export async function buildTree(root: string, spec: TreeSpec): Promise<void> {
  await mkdir(root, { recursive: true });
  const directories: [string, number][] = [];
  for (const [path, entry] of Object.entries(spec)) {
    const full = join(root, path);
    await mkdir(dirname(full), { recursive: true });
    if (typeof entry === 'string') {
      await writeFile(full, entry);
      await utimes(full, FIXED_MTIME, FIXED_MTIME);
    } else if ('file' in entry) {
      await writeFile(full, entry.file);
      await chmod(full, entry.mode ?? 0o644);
      await utimes(full, entry.mtime ?? FIXED_MTIME, entry.mtime ?? FIXED_MTIME);
      await own(full, entry);
    } else if ('dir' in entry) {
      await mkdir(full, { recursive: true });
      await own(full, entry);
      directories.push([full, entry.dir]);
    } else if ('symlink' in entry) {
      await symlink(entry.symlink, full);
      await own(full, entry);
    } else {
      await link(join(root, entry.hardlink), full);
    }
  }
  // Modes last: a read-only directory is filled first.
  for (const [full, mode] of directories.reverse()) await chmod(full, mode);
}

async function own(path: string, entry: Owned): Promise<void> {
  if (entry.uid !== undefined || entry.gid !== undefined)
    await lchown(path, entry.uid ?? -1, entry.gid ?? -1);
}

/**
 * What a tree holds, one line per entry (the root as '.'), sorted: type, mode, owner, and for a
 * file its size, mtime (seconds), content digest and which other names share its inode; for a
 * symlink its target. Directory mtimes are left out: deleting inside a directory sets it to now.
 */
export async function describeTree(root: string): Promise<string[]> {
  const lines: string[] = [];
  const inodes = new Map<number, string[]>();
  const visit = async (relative: string): Promise<void> => {
    const full = relative === '.' ? root : join(root, relative);
    const stats = await lstat(full);
    const owner = `${stats.uid}:${stats.gid}`;
    const mode = (stats.mode & 0o7777).toString(8).padStart(4, '0');
    if (stats.isDirectory()) {
      lines.push(`${relative} dir ${mode} ${owner}`);
      for (const name of (await readdir(full)).sort())
        await visit(relative === '.' ? name : `${relative}/${name}`);
    } else if (stats.isSymbolicLink()) {
      lines.push(`${relative} symlink -> ${await readlink(full)} ${owner}`);
    } else {
      const digest = createHash('sha256')
        .update(await readFile(full))
        .digest('hex')
        .slice(0, 12);
      const names = inodes.get(stats.ino) ?? [];
      names.push(relative);
      inodes.set(stats.ino, names);
      lines.push(
        `${relative} file ${mode} ${owner} ${stats.size}B ${Math.floor(stats.mtimeMs / 1000)} ${digest}`,
      );
    }
  };
  await visit('.');
  for (const names of inodes.values()) {
    if (names.length > 1) lines.push(`hard links: ${names.join(' = ')}`);
  }
  return lines;
}
