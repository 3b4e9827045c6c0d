import { randomBytes } from 'node:crypto';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { DownloadCache } from './cache.js';
import type { Checksum } from './checksum.js';
import { writeAll } from './write-file.js';

// Reads are large, so each costs one system call and one trip down the pipeline.
const READ_BYTES = 1024 * 1024;
// How far the copy may fall behind the stream before the stream waits for it.
const MAX_QUEUED_BYTES = 8 * 1024 * 1024;

/**
 * A stream spooled to a file of our own as it goes by, to be read back later: a download on its
 * way into the cache, or kept without a name for the second pass of an install. Writes are queued
 * behind each other so the stream does not wait for the disk, up to a bound; the first failed
 * write fails the spool. Removed on release, unless it became a cache entry (keepIn) or never had
 * a name (besideReleases).
 */
export class SpoolFile {
  private writing: Promise<void> = Promise.resolve();
  private queuedBytes = 0;
  private released = false;

  private constructor(
    private path: string,
    private readonly handle: FileHandle,
    private owned = true,
  ) {}

  /** A new file at path (which must not exist), readable and writable, only by its owner. */
  static async create(path: string): Promise<SpoolFile> {
    return new SpoolFile(path, await open(path, 'wx+', 0o600));
  }

  /**
   * A file beside releasesDir (on its file system, but out of the releases) that has no name: it
   * is unlinked as soon as it is open, so its space is freed when it is closed, or when the
   * process dies, whatever happens.
   */
  static async besideReleases(releasesDir: string, version: string): Promise<SpoolFile> {
    const name = `.${basename(releasesDir)}-${version}-${randomBytes(6).toString('hex')}.tar`;
    const path = join(dirname(releasesDir), name);
    const handle = await open(path, 'wx+', 0o600);
    try {
      await rm(path);
    } catch (error) {
      await handle.close();
      throw error;
    }
    return new SpoolFile(path, handle, false);
  }

  /** Queues chunk behind the earlier ones; waits only when the copy has fallen far behind. */
  async write(chunk: Buffer): Promise<void> {
    if (this.released) throw new Error(`${this.path} was already released`);
    this.queuedBytes += chunk.length;
    this.writing = this.writing
      .then(() => writeAll(this.handle, chunk))
      .finally(() => {
        this.queuedBytes -= chunk.length;
      });
    // Seen at the next wait: the next write past the bound, or finish.
    this.writing.catch(() => undefined);
    if (this.queuedBytes > MAX_QUEUED_BYTES) await this.writing;
  }

  /** Resolves once every queued write is done; rejects with the first failure. */
  async finish(): Promise<void> {
    await this.writing;
  }

  /**
   * Makes the finished, verified copy the cache's entry for checksum. The cache is an
   * optimisation: when that fails, the copy stays temporary. Not fsynced: every install from the
   * cache verifies the entry again, so one torn by a crash is found and dropped.
   */
  async keepIn(cache: DownloadCache, checksum: Checksum): Promise<void> {
    const entry = cache.pathFor(checksum);
    try {
      await rename(this.path, entry);
    } catch {
      return;
    }
    this.path = entry;
    this.owned = false;
    await cache.evict().catch(() => undefined);
  }

  /** What was written, from the first byte. */
  chunks(signal: AbortSignal): AsyncGenerator<Buffer> {
    return readChunks(this.handle, signal);
  }

  /** Closes the file, and removes it unless it became a cache entry. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.writing.catch(() => undefined);
    await this.handle.close().catch(() => undefined);
    if (this.owned) await rm(this.path, { force: true });
  }
}

/** A file's bytes from the first, in large positional reads (the handle's position is not used). */
export async function* readChunks(handle: FileHandle, signal: AbortSignal): AsyncGenerator<Buffer> {
  for (let position = 0; ;) {
    signal.throwIfAborted();
    // A fresh buffer each time: consumers may keep the chunks they are given.
    const buffer = Buffer.allocUnsafe(READ_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, READ_BYTES, position);
    if (bytesRead === 0) return;
    position += bytesRead;
    yield bytesRead === READ_BYTES ? buffer : buffer.subarray(0, bytesRead);
  }
}
