import { open, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Header, ReadEntry } from 'tar';
import { describe, expect, it } from 'vitest';
import { makeTempDir } from './test-support/fs.js';
import { copyEntry, FileSyncer } from './write-file.js';

/** A file handle whose writes complete only when the test says so. */
function slowHandle() {
  const started: string[] = [];
  const finishers: (() => void)[] = [];
  const handle = {
    write: (buffer: Buffer, offset: number, length: number) =>
      new Promise<{ bytesWritten: number }>((resolve) => {
        started.push(buffer.subarray(offset, offset + length).toString());
        finishers.push(() => resolve({ bytesWritten: length }));
      }),
  } as unknown as FileHandle;
  return { handle, started, finishNext: () => finishers.shift()?.() };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('copyEntry', () => {
  it('writes chunks one after another, even when more data arrives during a write', async () => {
    const entry = new ReadEntry(new Header({ path: 'f', type: 'File', size: 6 }));
    entry.write(Buffer.from('abc')); // arrives while the file is being opened: buffered
    const { handle, started, finishNext } = slowHandle();
    const copying = copyEntry(entry, handle, new AbortController().signal);
    await tick();
    expect(started).toEqual(['abc']);

    entry.write(Buffer.from('def'));
    entry.end();
    await tick();
    expect(started).toEqual(['abc']);

    finishNext();
    await tick();
    expect(started).toEqual(['abc', 'def']);
    finishNext();
    expect(await copying).toBe(6);
  });

  it('rejects with the abort reason while a write is pending', async () => {
    const entry = new ReadEntry(new Header({ path: 'f', type: 'File', size: 3 }));
    const controller = new AbortController();
    const copying = copyEntry(entry, slowHandle().handle, controller.signal);
    entry.write(Buffer.from('abc'));
    controller.abort(new Error('stop'));
    await expect(copying).rejects.toThrow('stop');
  });
});

describe('FileSyncer', () => {
  it('has set the mode and mtime of every file, and closed it, once drained', async () => {
    const dir = await makeTempDir();
    try {
      const syncer = new FileSyncer();
      const mtime = new Date(Date.UTC(2020, 0, 2, 3, 4, 5));
      const handles: FileHandle[] = [];
      for (const name of ['a', 'b', 'c']) {
        const handle = await open(join(dir.path, name), 'wx', 0o600);
        await handle.write(name);
        handles.push(handle);
        await syncer.finishAndClose(handle, { mode: 0o640, mtime });
      }
      await syncer.drain();
      for (const name of ['a', 'b', 'c']) {
        const stats = await stat(join(dir.path, name));
        expect(stats.mode & 0o777).toBe(0o640);
        expect(stats.mtime).toEqual(mtime);
      }
      expect(handles.map((handle) => handle.fd)).toEqual([-1, -1, -1]);
    } finally {
      await dir.remove();
    }
  });

  it('fails the next file, and drain, once a file could not be finished', async () => {
    const closed: string[] = [];
    const fake = (name: string, fail: boolean) =>
      ({
        chmod: () => (fail ? Promise.reject(new Error(`chmod ${name}: EIO`)) : Promise.resolve()),
        utimes: () => Promise.resolve(),
        datasync: () => Promise.resolve(),
        close: () => {
          closed.push(name);
          return Promise.resolve();
        },
      }) as unknown as FileHandle;
    const syncer = new FileSyncer();
    await syncer.finishAndClose(fake('a', true), { mode: 0o644, mtime: undefined });
    await tick();
    await expect(syncer.finishAndClose(fake('b', false), { mode: 0o644, mtime: undefined })).rejects.toThrow(
      'chmod a: EIO',
    );
    await expect(syncer.drain()).rejects.toThrow('chmod a: EIO');
    expect(closed.sort()).toEqual(['a', 'b']);
  });
});
