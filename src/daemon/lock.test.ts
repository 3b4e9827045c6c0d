import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isFerryError } from '../errors/ferry-error.js';
import { readPidStart } from '../supervisor/index.js';
import { lockAddress } from '../lib/process-lock.js';
import { DaemonLock, isLockHeld, readLockHolder } from './lock.js';

const lockName = (home: string): string => lockAddress('daemon', home);

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'ferry-lock-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function refusal(home: string, recordFile: string) {
  const error = await DaemonLock.acquire(home, recordFile).then(
    () => {
      throw new Error('expected the lock to be refused');
    },
    (caught: unknown) => caught,
  );
  if (!isFerryError(error, 'FERRY_E_DAEMON_RUNNING')) throw error;
  return error;
}

describe('the data directory lock', () => {
  it('is held until released, and names its holder in the record file', async () => {
    const home = path.join(dir, 'home');
    mkdirSync(home);
    const record = path.join(home, 'daemon.lock');
    const lock = await DaemonLock.acquire(home, record);
    expect(await isLockHeld(home)).toBe(true);
    lock.writeRecord('http://127.0.0.1:7070');
    expect(readLockHolder(record)).toMatchObject({
      pid: process.pid,
      pidStart: readPidStart(process.pid),
      url: 'http://127.0.0.1:7070',
    });

    const error = await refusal(home, record);
    expect(error.message).toContain(
      `another Ferry daemon already runs on ${home} (pid ${process.pid}, API http://127.0.0.1:7070`,
    );
    expect(error.details).toMatchObject({ pid: process.pid, url: 'http://127.0.0.1:7070' });

    await lock.release();
    expect(await isLockHeld(home)).toBe(false);
    expect(readLockHolder(record)).toBeUndefined();
    await (await DaemonLock.acquire(home, record)).release();
  });

  it('is the same lock for a symlink and its target, and for a directory that does not exist yet', async () => {
    const real = path.join(dir, 'real');
    mkdirSync(real);
    symlinkSync(real, path.join(dir, 'link'));
    expect(lockName(path.join(dir, 'link'))).toBe(lockName(real));
    expect(lockName(path.join(dir, 'link', 'sub', '..', 'new'))).toBe(lockName(path.join(real, 'new')));
    expect(lockName(path.join(dir, 'other'))).not.toBe(lockName(real));

    const missing = path.join(dir, 'link', 'not-yet');
    const lock = await DaemonLock.acquire(missing, path.join(dir, 'record'));
    lock.writeRecord(null);
    try {
      await refusal(path.join(real, 'not-yet'), path.join(dir, 'record'));
      mkdirSync(path.join(real, 'not-yet'));
      await refusal(path.join(real, 'not-yet'), path.join(dir, 'record'));
    } finally {
      await lock.release();
    }
  });

  it('is freed by the kernel when its holder dies, even by kill -9; a stale record names nobody', async () => {
    const home = path.join(dir, 'home');
    const record = path.join(dir, 'daemon.lock');
    const script = path.join(dir, 'holder.mts');
    const lockModule = new URL('./lock.ts', import.meta.url).pathname;
    writeFileSync(
      script,
      `import { DaemonLock } from ${JSON.stringify(lockModule)};
const lock = await DaemonLock.acquire(${JSON.stringify(home)}, ${JSON.stringify(record)});
lock.writeRecord(null);
console.log('locked');
setInterval(() => {}, 1000);
`,
    );
    const holder = spawn(process.execPath, ['--import', 'tsx', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      holder.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('locked') && resolve());
      holder.once('exit', (code) => reject(new Error(`the holder exited with ${code}`)));
    });
    const error = await refusal(home, record);
    expect(error.message).toContain(`(pid ${holder.pid}, started `);
    expect(error.message).toContain(`kill -TERM ${holder.pid}`);

    const gone = new Promise((resolve) => holder.once('exit', resolve));
    holder.kill('SIGKILL');
    await gone;
    expect(readFileSync(record, 'utf8')).toContain(`"pid":${holder.pid}`);
    expect(readLockHolder(record)).toBeUndefined();
    expect(await isLockHeld(home)).toBe(false);
    await (await DaemonLock.acquire(home, record)).release();
  });
});
