import { randomBytes } from 'node:crypto';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { DownloadCache } from './cache.js';
import type { Checksum } from './checksum.js';
import { writeAll } from './write-file.js';

// Reads of the local copy: large, so each costs one system call and one trip down the pipeline.
const READ_BYTES = 1024 * 1024;
// How far the copy may fall behind the download before the download waits for it.
const MAX_QUEUED_BYTES = 8 * 1024 * 1024;

/**
 * An artifact in a local file, read twice through one open handle: once to verify and scan it,
 * once to extract it. A file renamed over or evicted from the cache meanwhile changes neither read.
 */
export interface LocalArtifact {
  /** The bytes from the first, with positional reads (each call starts over). */
  chunks(signal: AbortSignal): AsyncGenerator<Buffer>;
  /** Closes the handle, and removes the file when it was a temporary copy. */
  release(): Promise<void>;
}

/** A file someone else owns (a file:// artifact, a cache entry): read, never removed. */
export class LocalFile implements LocalArtifact {
  constructor(private readonly handle: FileHandle) {}

  chunks(signal: AbortSignal): AsyncGenerator<Buffer> {
    return readChunks(this.handle, signal);
  }

  async release(): Promise<void> {
    await this.handle.close().catch(() => undefined);
  }
}

/**
 * The copy a fetch writes as the bytes arrive: a temporary file that either becomes a cache entry
 * (keepIn) or is removed on release. Writes are queued behind each other so the download does not
 * wait for the disk, up to a bound; the first failed write fails the copy.
 */
export class DownloadFile implements LocalArtifact {
  private writing: Promise<void> = Promise.resolve();
  private queuedBytes = 0;
  private released = false;

  private constructor(
    private path: string,
    private readonly handle: FileHandle,
    private owned = true,
  ) {}

  /** A new file at path (which must not exist), readable and writable, only by its owner. */
  static async create(path: string): Promise<DownloadFile> {
    return new DownloadFile(path, await open(path, 'wx+', 0o600));
  }

  /** A fresh temporary name beside releasesDir: on its file system, but out of the releases. */
  static besideReleases(releasesDir: string, version: string): string {
    const name = `.${basename(releasesDir)}-${version}-${randomBytes(6).toString('hex')}.download`;
    return join(dirname(releasesDir), name);
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

  /** Resolves once every queued write is on its way to disk; rejects with the first failure. */
  async finish(): Promise<void> {
    await this.writing;
  }

  /**
   * Makes the finished, verified copy the cache's entry for checksum (it stays open for the
   * extraction). The cache is an optimisation: when that fails, the copy stays temporary. Not
   * fsynced: every install from the cache verifies the entry again, so one torn by a crash is
   * found and dropped.
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

  chunks(signal: AbortSignal): AsyncGenerator<Buffer> {
    return readChunks(this.handle, signal);
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.writing.catch(() => undefined);
    await this.handle.close().catch(() => undefined);
    if (this.owned) await rm(this.path, { force: true });
  }
}

async function* readChunks(handle: FileHandle, signal: AbortSignal): AsyncGenerator<Buffer> {
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
