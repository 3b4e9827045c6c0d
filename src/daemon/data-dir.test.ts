import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FerryError } from '../errors/ferry-error.js';
import { resolveRealPath } from '../lib/real-path.js';
import { dataDirMode, inspectDataDir, prepareDataDir, withDataDirWrites } from './data-dir.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'ferry-data-dir-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const modeOf = (p: string) => statSync(p).mode & 0o777;

function thrown(work: () => unknown): FerryError {
  try {
    work();
  } catch (error) {
    if (error instanceof FerryError) return error;
    throw error;
  }
  throw new Error('expected a FerryError');
}

describe('the data directory', () => {
  it('is missing, empty or Ferry’s; a missing or empty one becomes Ferry’s, owner-only', () => {
    const missing = path.join(dir, 'a', 'b', 'home');
    expect(inspectDataDir(missing)).toBe('missing');
    prepareDataDir(missing, resolveRealPath(missing));
    expect(modeOf(missing)).toBe(dataDirMode());
    expect(dataDirMode()).toBe(0o700);

    const empty = path.join(dir, 'empty');
    mkdirSync(path.join(empty, 'lost+found'), { recursive: true, mode: 0o755 });
    expect(inspectDataDir(empty)).toBe('empty');
    prepareDataDir(empty, resolveRealPath(empty));
    expect(modeOf(empty)).toBe(0o700);

    for (const file of ['ferry.db', 'api-token', 'daemon.json', 'daemon.log']) {
      const ferry = path.join(dir, `ferry-${file}`);
      mkdirSync(ferry);
      writeFileSync(path.join(ferry, file), '');
      writeFileSync(path.join(ferry, 'other-file'), '');
      expect(inspectDataDir(ferry)).toBe('ferry');
    }
  });

  it("refuses a directory that is not Ferry's, without touching it", () => {
    const home = path.join(dir, 'home');
    mkdirSync(home, { mode: 0o755 });
    chmodSync(home, 0o755);
    for (const name of ['a', 'b', 'c', 'd', 'e', 'f', 'g']) writeFileSync(path.join(home, name), '');
    const error = thrown(() => inspectDataDir(home));
    expect(error.code).toBe('FERRY_E_DATA_DIR');
    expect(error.message).toContain(
      `the data directory ${home} is not Ferry's: it holds a, b, c, d, e (7 entries)`,
    );
    expect(modeOf(home)).toBe(0o755);
  });

  it('refuses a file where the directory should be', () => {
    const file = path.join(dir, 'file');
    writeFileSync(file, '');
    expect(thrown(() => inspectDataDir(file)).message).toBe(
      `the data directory ${file} is not a directory. Fix it, or point Ferry at another directory (data_dir in ferry.yaml, --home or FERRY_HOME)`,
    );
  });

  it('turns failed writes into FERRY_E_DATA_DIR or FERRY_E_DISK_FULL, and passes others on', () => {
    const errno = (code: string) => Object.assign(new Error(code), { code });
    const fail = (code: string) => () =>
      withDataDirWrites('/data', () => {
        throw errno(code);
      });
    expect(thrown(fail('EROFS'))).toMatchObject({
      code: 'FERRY_E_DATA_DIR',
      message: expect.stringContaining('the data directory /data is on a read-only file system'),
    });
    expect(thrown(fail('EACCES'))).toMatchObject({
      code: 'FERRY_E_DATA_DIR',
      message: expect.stringContaining('is not writable by this user'),
    });
    expect(thrown(fail('ENOSPC'))).toMatchObject({
      code: 'FERRY_E_DISK_FULL',
      message: expect.stringContaining('the data directory /data is on a full disk (ENOSPC)'),
    });
    expect(fail('EIO')).toThrow('EIO');
  });

  it('refuses to go on when the directory is not the one the lock was taken for', () => {
    const real = path.join(dir, 'real');
    mkdirSync(real);
    const home = path.join(dir, 'home');
    const lockedFor = resolveRealPath(home);
    // Between the lock and the directory's creation, someone put a symlink there.
    mkdirSync(real, { recursive: true });
    chmodSync(real, 0o755);
    symlinkSync(real, home);
    expect(thrown(() => prepareDataDir(home, lockedFor))).toMatchObject({
      code: 'FERRY_E_DATA_DIR',
      message: `the data directory ${home} changed while Ferry started: expected it to be ${lockedFor}, got ${real}`,
    });
    expect(modeOf(real)).toBe(0o755);
  });
});
