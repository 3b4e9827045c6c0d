import { appendFileSync, mkdtempSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readLogAfter, readLogTail } from './log-cursor.js';

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'ferry-log-cursor-'));
  file = path.join(dir, 'web.log');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const all = { maxLineBytes: 100, take: () => true };
const numbered = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => `line ${from + i}`);
/** A `take` that lets lines through until `bytes` of them were taken. */
const budget = (bytes: number) => {
  let left = bytes;
  return (line: string) => (left -= Buffer.byteLength(line)) >= 0;
};

describe('readLogTail', () => {
  it('gives the last whole lines and the offset after them; a last line without its newline waits', async () => {
    writeFileSync(file, 'one\ntwo\nthree\nfour');
    expect(await readLogTail(file, 2, all)).toEqual({ lines: ['two', 'three'], end: 14 });
    appendFileSync(file, ' and more\nfive\n');
    expect(await readLogAfter(file, 14, all)).toEqual({
      lines: ['four and more', 'five'],
      end: statSync(file).size,
      more: false,
    });
  });

  it('reads a large file from its end; an empty or missing file gives nothing', async () => {
    writeFileSync(file, numbered(1, 50_000).join('\n') + '\n');
    const size = statSync(file).size;
    expect(await readLogTail(file, 3, all)).toEqual({ lines: numbered(49_998, 50_000), end: size });
    writeFileSync(file, '');
    expect(await readLogTail(file, 3, all)).toEqual({ lines: [], end: 0 });
    expect(await readLogTail(path.join(dir, 'missing.log'), 3, all)).toBeNull();
  });

  it('offers the newest lines first: when the reply is full, the oldest are the ones left out', async () => {
    writeFileSync(file, 'aaaa\nbbbb\ncccc\n');
    expect(await readLogTail(file, 10, { maxLineBytes: 100, take: budget(8) })).toEqual({
      lines: ['bbbb', 'cccc'],
      end: 15,
    });
  });

  it('cuts long lines, never inside a character; a last line already over the bound is not held back', async () => {
    writeFileSync(file, `${'ü'.repeat(40)}\n${'x'.repeat(30)}`);
    const read = await readLogTail(file, 5, { maxLineBytes: 11, take: () => true });
    expect(read).toEqual({ lines: [`${'ü'.repeat(5)}…`, `${'x'.repeat(11)}…`], end: 81 + 30 });
  });
});

describe('readLogAfter', () => {
  it('reads the whole lines after the offset; a line still being written waits for its newline', async () => {
    writeFileSync(file, 'old\nnew 1\nnew 2\npart');
    const first = await readLogAfter(file, 4, all);
    expect(first).toEqual({ lines: ['new 1', 'new 2'], end: 16, more: false });
    expect(await readLogAfter(file, 16, all)).toEqual({ lines: [], end: 16, more: false });
    appendFileSync(file, 'ial\n');
    expect(await readLogAfter(file, 16, all)).toEqual({ lines: ['partial'], end: 24, more: false });
  });

  it('after a copy-truncate rotation (the file shorter than the offset), reads from the start', async () => {
    writeFileSync(file, numbered(1, 100).join('\n') + '\n');
    const offset = statSync(file).size;
    truncateSync(file, 0);
    appendFileSync(file, 'after rotation\n');
    expect(await readLogAfter(file, offset, all)).toEqual({
      lines: ['after rotation'],
      end: 15,
      more: false,
    });
  });

  it('stops where the reply is full, and the next read goes on from there: every line once, in order', async () => {
    const lines = numbered(1, 2_000);
    writeFileSync(file, lines.join('\n') + '\n');
    const seen: string[] = [];
    let offset = 0;
    for (let reads = 0; reads < 100; reads++) {
      const read = (await readLogAfter(file, offset, { maxLineBytes: 100, take: budget(1_000) }))!;
      expect(read.lines.join('').length).toBeLessThanOrEqual(1_000);
      seen.push(...read.lines);
      offset = read.end;
      if (!read.more) break;
    }
    expect(seen).toEqual(lines);
    expect(offset).toBe(statSync(file).size);
  });

  it('takes at most a bounded read of a burst at once, and says there is more', async () => {
    const lines = numbered(1, 200_000);
    writeFileSync(file, lines.join('\n') + '\n');
    const first = (await readLogAfter(file, 0, all))!;
    expect(first.more).toBe(true);
    expect(first.end).toBeLessThanOrEqual(1024 * 1024);
    expect(first.lines).toEqual(lines.slice(0, first.lines.length));
    const second = (await readLogAfter(file, first.end, all))!;
    expect(second.lines[0]).toBe(lines[first.lines.length]);
  });

  it('cuts a long line and skips its rest; a partial line over the bound goes out without waiting', async () => {
    writeFileSync(file, `${'a'.repeat(5_000)}\nshort\n${'b'.repeat(150)}`);
    const read = (await readLogAfter(file, 0, all))!;
    expect(read).toEqual({
      lines: [`${'a'.repeat(100)}…`, 'short', `${'b'.repeat(100)}…`],
      end: 5_001 + 6 + 150,
      more: false,
    });
    appendFileSync(file, 'bb\nnext\n');
    expect((await readLogAfter(file, read.end, all))!.lines).toEqual(['bb', 'next']);
  });

  it('with flush (its writer stopped), a last line without a newline is a line; a missing file is null', async () => {
    writeFileSync(file, 'last words\nno newline');
    expect(await readLogAfter(file, 0, { ...all, flush: true })).toEqual({
      lines: ['last words', 'no newline'],
      end: 21,
      more: false,
    });
    expect(await readLogAfter(path.join(dir, 'missing.log'), 0, all)).toBeNull();
  });
});
