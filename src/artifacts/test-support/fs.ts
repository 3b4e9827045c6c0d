import { watch } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

/** A fresh temp dir and its removal; call remove in afterEach (or finally) always. */
export async function makeTempDir(
  prefix = 'ferry-artifacts-',
): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** Every path under dir (relative, sorted), hidden ones included; [] when dir does not exist. */
export async function listTree(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    return entries.map((entry) => relative(dir, join(entry.parentPath, entry.name))).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/**
 * Watches dir (fs.watch) for every name that appears in it or leaves it: proof that an operation
 * wrote nothing there even for a moment, which its end state alone cannot show.
 */
export function watchDir(dir: string): { namesSeen: () => Promise<string[]> } {
  const names: string[] = [];
  const marker = `.watch-marker-${randomBytes(4).toString('hex')}`;
  let markerSeen: () => void = () => undefined;
  const seen = new Promise<void>((resolve) => (markerSeen = resolve));
  const watcher = watch(dir, (_event, name) => {
    if (name === marker) markerSeen();
    else names.push(name ?? '(unnamed)');
  });
  return {
    /** The names seen so far; a marker written last proves that every earlier event has arrived. */
    async namesSeen() {
      await writeFile(join(dir, marker), '');
      await seen;
      watcher.close();
      await rm(join(dir, marker));
      return [...new Set(names)];
    },
  };
}
