import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import type { Checksum } from './checksum.js';

const TEMP_PREFIX = '.tmp-';

/**
 * Verified artifact bytes kept by checksum (<dir>/<algo>-<hex>), so a later install of the same
 * artifact reads the disk instead of the network. Entries appear by one rename and only after
 * verification; a checksum names its content, so an entry never needs updating.
 */
export class DownloadCache {
  constructor(
    readonly dir: string,
    private readonly maxBytes: number,
  ) {}

  pathFor(checksum: Checksum): string {
    return join(this.dir, `${checksum.algorithm}-${checksum.hex}`);
  }

  /** The entry's path when present (and marks it recently used), else null. */
  async lookup(checksum: Checksum): Promise<string | null> {
    const path = this.pathFor(checksum);
    try {
      if (!(await stat(path)).isFile()) return null;
      const now = new Date();
      // Eviction goes oldest first by mtime: a hit makes the entry young again.
      await utimes(path, now, now);
      return path;
    } catch {
      // Missing, or an unreadable cache directory: either way the network is the way to go.
      return null;
    }
  }

  async remove(checksum: Checksum): Promise<void> {
    await rm(this.pathFor(checksum), { force: true });
  }

  /** A fresh temporary name in the cache directory (made if missing); an entry appears by rename. */
  async tempPath(): Promise<string> {
    await mkdir(this.dir, { recursive: true });
    return join(this.dir, `${TEMP_PREFIX}${randomBytes(8).toString('hex')}`);
  }

  /** Deletes the oldest entries until the total fits maxBytes (temp files of running writes stay). */
  async evict(): Promise<void> {
    const names = (await readdir(this.dir)).filter((name) => !name.startsWith(TEMP_PREFIX));
    const entries: { path: string; size: number; mtimeMs: number }[] = [];
    for (const name of names) {
      const path = join(this.dir, name);
      const stats = await stat(path).catch(() => null);
      if (stats?.isFile() === true) entries.push({ path, size: stats.size, mtimeMs: stats.mtimeMs });
    }
    entries.sort((a, b) => a.mtimeMs - b.mtimeMs);
    let total = entries.reduce((sum, entry) => sum + entry.size, 0);
    for (const entry of entries) {
      if (total <= this.maxBytes) break;
      await rm(entry.path, { force: true });
      total -= entry.size;
    }
  }
}
