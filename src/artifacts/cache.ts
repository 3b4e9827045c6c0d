import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat, utimes, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Checksum } from './checksum.js';
import { writeAll } from './write-file.js';

const TEMP_PREFIX = '.tmp-';
// How far the copy may fall behind the download before the download waits for it.
const MAX_QUEUED_BYTES = 8 * 1024 * 1024;

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

  /** A temp file in the cache directory that becomes the entry on commit. */
  async startWrite(): Promise<CacheWriter> {
    await mkdir(this.dir, { recursive: true });
    const tmp = join(this.dir, `${TEMP_PREFIX}${randomBytes(8).toString('hex')}`);
    return new CacheWriter(this, tmp, await open(tmp, 'wx'));
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

/**
 * Copies fetched chunks into the cache. The cache is an optimisation: a failure to write it
 * (a full disk, a read-only directory) only stops the copy, never the install. Nor is an entry
 * fsynced: every install from the cache verifies the checksum again, so an entry torn by a crash
 * is found and dropped, and the install's own durable writes do not wait behind this copy's.
 */
export class CacheWriter {
  private failed = false;
  private writing: Promise<void> = Promise.resolve();
  private queuedBytes = 0;

  constructor(
    private readonly cache: DownloadCache,
    private readonly tmp: string,
    private readonly handle: FileHandle,
  ) {}

  /** Queues chunk behind the earlier ones; waits only when the copy has fallen far behind. */
  async write(chunk: Buffer): Promise<void> {
    if (this.failed) return;
    this.queuedBytes += chunk.length;
    this.writing = this.writing
      .then(() => (this.failed ? undefined : writeAll(this.handle, chunk)))
      .catch(() => {
        this.failed = true;
      })
      .finally(() => {
        this.queuedBytes -= chunk.length;
      });
    if (this.queuedBytes > MAX_QUEUED_BYTES) await this.writing;
  }

  /** Makes the verified bytes the entry for checksum, then trims the cache to its bound. */
  async commit(checksum: Checksum): Promise<void> {
    try {
      await this.writing;
      if (this.failed) throw new Error('cache write failed');
      await this.handle.close();
      await rename(this.tmp, this.cache.pathFor(checksum));
      await this.cache.evict();
    } catch {
      await this.discard();
    }
  }

  async discard(): Promise<void> {
    this.failed = true;
    await this.writing;
    await this.handle.close().catch(() => undefined);
    await rm(this.tmp, { force: true });
  }
}
