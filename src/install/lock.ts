import { open, readFile, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { FerryError } from '../errors/ferry-error.js';

export interface DestLock {
  readonly path: string;
  release(): Promise<void>;
}

export interface LockOptions {
  /** How long to wait for another install into the same dest; 0 fails at once. */
  waitMs: number;
  signal?: AbortSignal;
  /** Called once when the lock is busy and this install starts waiting. */
  onWait?: (holder: string) => void;
}

interface LockRecord {
  pid: number;
  host: string;
  startedAt: string;
}

export function lockPathFor(dest: string): string {
  return `${dest.replace(/\/+$/, '')}.ferry-install.lock`;
}

/**
 * Takes the exclusive lock of one dest: `<dest>.ferry-install.lock`, created with O_EXCL and
 * holding the pid, host and start time. A lock whose process on this host is gone is stale and
 * taken over. A busy lock is polled until waitMs, then FERRY_E_INSTALL_LOCKED.
 */
export async function acquireDestLock(dest: string, options: LockOptions): Promise<DestLock> {
  const path = lockPathFor(dest);
  const record: LockRecord = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
  const deadline = Date.now() + options.waitMs;
  let pause = 20;
  let waiting = false;
  for (;;) {
    options.signal?.throwIfAborted();
    try {
      const handle = await open(path, 'wx', 0o644);
      await handle.writeFile(JSON.stringify(record));
      await handle.close();
      return { path, release: () => unlink(path).catch(() => undefined) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = await readFile(path, 'utf8').catch(() => null);
    if (holder === null) continue; // released in between
    if (isStale(holder)) {
      // Remove only the stale record we read, so a fresh lock taken meanwhile is not lost.
      if ((await readFile(path, 'utf8').catch(() => null)) === holder)
        await unlink(path).catch(() => undefined);
      continue;
    }
    if (Date.now() >= deadline) {
      throw new FerryError(
        'FERRY_E_INSTALL_LOCKED',
        `dest ${dest} is locked by another install (${describe(holder)}); waited ${options.waitMs} ms`,
        {
          where: path,
          holder: describe(holder),
        },
      );
    }
    if (!waiting) options.onWait?.(describe(holder));
    waiting = true;
    await sleep(
      Math.min(pause, Math.max(1, deadline - Date.now())),
      undefined,
      options.signal ? { signal: options.signal } : {},
    );
    pause = Math.min(pause * 2, 500);
  }
}

function parse(holder: string): LockRecord | null {
  try {
    const value = JSON.parse(holder) as Partial<LockRecord>;
    return typeof value.pid === 'number' && typeof value.host === 'string'
      ? { pid: value.pid, host: value.host, startedAt: String(value.startedAt) }
      : null;
  } catch {
    return null;
  }
}

function isStale(holder: string): boolean {
  const record = parse(holder);
  // An empty or partial file: its writer is between create and write; treat it as held.
  if (record === null || record.host !== hostname()) return false;
  return !isAlive(record.pid);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function describe(holder: string): string {
  const record = parse(holder);
  return record ? `pid ${record.pid} on ${record.host} since ${record.startedAt}` : 'unknown holder';
}
