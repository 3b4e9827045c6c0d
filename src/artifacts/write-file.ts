import type { FileHandle } from 'node:fs/promises';
import type { ReadEntry } from 'tar';

/**
 * Writes a tar entry's body to an open file in order. The entry stays paused while chunks are
 * being written, which holds the tar parser (and so the download) back when the disk is slower.
 * Resolves with the bytes written; rejects when signal aborts.
 */
export function copyEntry(entry: ReadEntry, handle: FileHandle, signal: AbortSignal): Promise<number> {
  return new Promise((resolve, reject) => {
    let written = 0;
    let queued = 0;
    let writing: Promise<void> = Promise.resolve();
    const cleanUp = (): void => {
      signal.removeEventListener('abort', onAbort);
      entry.off('data', onData);
      entry.off('end', onEnd);
    };
    const onAbort = (): void => {
      cleanUp();
      reject(asError(signal.reason));
    };
    // Writes are chained, not just paused between: adding a 'data' listener resumes a stream too,
    // so a second chunk can arrive while the first is still being written.
    const onData = (chunk: Buffer): void => {
      entry.pause();
      queued += 1;
      writing = writing
        .then(() => writeAll(handle, chunk))
        .then(() => {
          written += chunk.length;
          queued -= 1;
          if (queued === 0) entry.resume();
        });
      writing.catch(onError);
    };
    const onError = (error: unknown): void => {
      cleanUp();
      reject(asError(error));
    };
    // The entry may end while its last chunk is still being written.
    const onEnd = (): void => {
      writing.then(() => {
        cleanUp();
        resolve(written);
      }, onError);
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    entry.on('data', onData);
    entry.on('end', onEnd);
    entry.resume();
  });
}

/** Writes all of chunk at the file's current position (a write may take only part of it). */
export async function writeAll(handle: FileHandle, chunk: Buffer): Promise<void> {
  for (let offset = 0; offset < chunk.length;) {
    const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset);
    offset += bytesWritten;
  }
}

const MAX_PENDING_SYNCS = 8;

/**
 * What a written file gets before it is flushed: its mode, when the archive has one its mtime, and
 * when the archive's owners are kept its owner.
 */
export interface FileAttributes {
  mode: number;
  mtime: Date | undefined;
  owner?: { uid: number; gid: number } | null;
}

/**
 * Finishes written files in the background while extraction goes on: sets their mode and mtime,
 * flushes them to disk, closes them. So a release renamed into place after a crash is complete,
 * without paying one fsync at a time, and the next file is written while this one is finished.
 */
export class FileSyncer {
  private readonly pending = new Set<Promise<void>>();
  private failure: Error | undefined = undefined;

  /** Takes ownership of handle: it is finished and closed. Waits when too many are pending. */
  async finishAndClose(handle: FileHandle, attributes: FileAttributes): Promise<void> {
    // An earlier file's failure stops extraction at the next file rather than at the end.
    if (this.failure !== undefined) {
      await handle.close();
      throw this.failure;
    }
    while (this.pending.size >= MAX_PENDING_SYNCS) await Promise.race(this.pending);
    const finish = async (): Promise<void> => {
      // Owner before mode: a chown clears setuid and setgid bits.
      if (attributes.owner) await handle.chown(attributes.owner.uid, attributes.owner.gid);
      await handle.chmod(attributes.mode);
      if (attributes.mtime) await handle.utimes(attributes.mtime, attributes.mtime);
      await handle.datasync();
    };
    const done = finish()
      .finally(() => handle.close())
      .catch((error: unknown) => {
        this.failure ??= asError(error);
      })
      .finally(() => this.pending.delete(done));
    this.pending.add(done);
  }

  /** Resolves when every file is finished and closed; rejects with the first failure. */
  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.all(this.pending);
    if (this.failure !== undefined) throw this.failure;
  }
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
