import type { FileHandle } from 'node:fs/promises';
import { Header, ReadEntry } from 'tar';
import { describe, expect, it } from 'vitest';
import { copyEntry } from './write-file.js';

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
