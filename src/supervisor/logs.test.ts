import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LogRotator, rotateLog, tailLog } from './logs.js';
import { specFor } from './test-support/fixtures.js';
import { cleanUpAfterEach, supervisedHome } from './test-support/harness.js';
import { waitFor } from './test-support/wait.js';

cleanUpAfterEach();

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'ferry-logs-'));
  file = path.join(dir, 'web.log');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const numbered = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => `line ${from + i}`);

describe('tailLog', () => {
  it('returns the last lines of a large file', async () => {
    writeFileSync(file, numbered(1, 50_000).join('\n') + '\n');
    expect(await tailLog(file, 3)).toEqual(numbered(49_998, 50_000));
    expect(await tailLog(file, 1)).toEqual(['line 50000']);
    expect(await tailLog(file, 0)).toEqual([]);
  });

  it('returns a whole short file, a last line without newline, and nothing for a missing file', async () => {
    writeFileSync(file, 'one\ntwo\nthree');
    expect(await tailLog(file, 10)).toEqual(['one', 'two', 'three']);
    expect(await tailLog(path.join(dir, 'missing.log'), 10)).toEqual([]);
  });

  it('keeps multi-byte characters whole across read chunks', async () => {
    const line = 'ü'.repeat(40_000);
    writeFileSync(file, `${line}\n${line}\n`);
    expect(await tailLog(file, 1)).toEqual([line]);
  });
});

describe('rotateLog', () => {
  it('rotates copy-truncate style, keeping N files', async () => {
    for (let round = 1; round <= 3; round++) {
      writeFileSync(file, `round ${round}\n`.repeat(100));
      expect(await rotateLog(file, { maxBytes: 100, keep: 2 })).toBe(true);
    }
    expect(readFileSync(file, 'utf8')).toBe('');
    expect(readFileSync(`${file}.1`, 'utf8')).toMatch(/^round 3/);
    expect(readFileSync(`${file}.2`, 'utf8')).toMatch(/^round 2/);
    expect(existsSync(`${file}.3`)).toBe(false);
    expect(await rotateLog(file, { maxBytes: 100, keep: 2 })).toBe(false);
    expect(await rotateLog(path.join(dir, 'missing.log'), { maxBytes: 100, keep: 2 })).toBe(false);
  });

  it('rotates the log of a running instance, which goes on writing at the start of the file (O_APPEND)', async () => {
    const home = supervisedHome();
    const spec = specFor(home.dir, 'ticker');
    await home.supervisor.start(spec);
    await waitFor('some output', () => readFileSync(spec.logFile, 'utf8').length > 200);
    expect(await rotateLog(spec.logFile, { maxBytes: 100, keep: 1 })).toBe(true);
    const rotatedUpTo = Number(/tick (\d+)\n$/.exec(readFileSync(`${spec.logFile}.1`, 'utf8'))?.[1]);
    const after = await waitFor('output after the rotation', () => {
      const text = readFileSync(spec.logFile);
      return text.length > 50 && text;
    });
    // No hole of NUL bytes: the writes did not keep the old offset (a sparse file reads as zeros).
    expect(after.includes(0)).toBe(false);
    expect(Number(/^tick (\d+)/.exec(after.toString('utf8'))?.[1] ?? '0')).toBeGreaterThan(rotatedUpTo - 1);
  });
});

describe('LogRotator', () => {
  it('rotates the files it is given when checked, and refuses to start twice', async () => {
    const other = path.join(dir, 'other.log');
    writeFileSync(file, 'x'.repeat(1_000));
    writeFileSync(other, 'small');
    const files = [file, other, path.join(dir, 'missing.log')];
    const errors: unknown[] = [];
    const rotator = new LogRotator(() => files, {
      maxBytes: 100,
      keep: 1,
      intervalMs: 60_000,
      onError: (_f, e) => errors.push(e),
    });
    rotator.start();
    try {
      await rotator.checkNow();
      expect(readFileSync(`${file}.1`, 'utf8')).toHaveLength(1_000);
      expect(readFileSync(file, 'utf8')).toBe('');
      expect(readFileSync(other, 'utf8')).toBe('small');
      expect(errors).toEqual([]);
      expect(() => rotator.start()).toThrow(/the log rotator is running/);
    } finally {
      rotator.stop();
    }
  });
});
