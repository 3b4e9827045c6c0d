import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { FerryError } from '../errors/ferry-error.js';
import { ProcessLock } from '../lib/process-lock.js';
import { FERRY_VERSION } from '../lib/version.js';
import { isProcessAlive, readPidStart } from '../supervisor/index.js';

/** Who holds a data directory's lock, as its record file (daemon.lock) names it. */
export interface LockHolder {
  readonly pid: number;
  /** /proc/<pid>/stat field 22: with the pid, names exactly one process. */
  readonly pidStart: number;
  readonly startedAt: number;
  /** The API address, once the daemon listens. */
  readonly url: string | null;
  readonly version: string;
}

/** How long a daemon that lost the race waits for the winner to name itself. */
const HOLDER_WAIT_MS = 3_000;
const HOLDER_POLL_MS = 50;

/** The kind of ProcessLock a data directory's daemon holds. */
const LOCK_KIND = 'daemon';

/**
 * One daemon per data directory: taken before the daemon touches anything, held for its life.
 * The socket is the lock; the record file only names the holder for the messages of others.
 */
export class DaemonLock {
  private record: LockHolder;
  private recordWritten = false;

  private constructor(
    private readonly lock: ProcessLock,
    private readonly recordFile: string,
  ) {
    this.record = {
      pid: process.pid,
      pidStart: readPidStart(process.pid) ?? 0,
      startedAt: Date.now(),
      url: null,
      version: FERRY_VERSION,
    };
  }

  get pidStart(): number {
    return this.record.pidStart;
  }

  /** Takes the lock of `home`; FERRY_E_DAEMON_RUNNING, naming the holder, when another daemon has it. */
  static async acquire(home: string, recordFile: string): Promise<DaemonLock> {
    // The socket is the lock (see ProcessLock); the record file names the holder with its start time.
    const attempt = await ProcessLock.acquire(LOCK_KIND, home, () => ({ pid: process.pid }));
    if (!attempt.acquired) throw daemonRunning(home, await waitForHolder(recordFile));
    return new DaemonLock(attempt.lock, recordFile);
  }

  /** Writes the record naming this daemon (again once the API address is known). */
  writeRecord(url: string | null = this.record.url): void {
    this.record = { ...this.record, url };
    const temp = `${this.recordFile}.${process.pid}.tmp`;
    writeFileSync(temp, `${JSON.stringify(this.record)}\n`, { mode: 0o600 });
    renameSync(temp, this.recordFile);
    this.recordWritten = true;
  }

  /** Removes the record (if it is ours) and frees the lock. */
  async release(): Promise<void> {
    if (this.recordWritten && readLockHolder(this.recordFile)?.pid === process.pid)
      rmSync(this.recordFile, { force: true });
    await this.lock.release();
  }
}

/** Whether a daemon holds the lock of `home` now, asked without taking it. */
export function isLockHeld(home: string): Promise<boolean> {
  return ProcessLock.isHeld(LOCK_KIND, home);
}

/** The record of daemon.lock when it names a live process (same pid and start time). */
export function readLockHolder(recordFile: string): LockHolder | undefined {
  let holder: Partial<LockHolder>;
  try {
    holder = JSON.parse(readFileSync(recordFile, 'utf8')) as Partial<LockHolder>;
  } catch {
    return undefined;
  }
  const { pid, pidStart, startedAt, url, version } = holder;
  if (typeof pid !== 'number' || typeof pidStart !== 'number' || !isProcessAlive(pid, pidStart))
    return undefined;
  return {
    pid,
    pidStart,
    startedAt: typeof startedAt === 'number' ? startedAt : 0,
    url: typeof url === 'string' ? url : null,
    version: typeof version === 'string' ? version : 'unknown',
  };
}

/** The winner of a race writes its record a moment after taking the lock: wait for it, briefly. */
async function waitForHolder(recordFile: string): Promise<LockHolder | undefined> {
  const deadline = Date.now() + HOLDER_WAIT_MS;
  for (;;) {
    const holder = readLockHolder(recordFile);
    if (holder || Date.now() >= deadline) return holder;
    await sleep(HOLDER_POLL_MS);
  }
}

function daemonRunning(home: string, holder: LockHolder | undefined): FerryError {
  if (!holder) {
    return new FerryError(
      'FERRY_E_DAEMON_RUNNING',
      `another Ferry daemon holds the lock of ${home} but has not named itself yet (it may be starting or stopping); try again shortly`,
      { where: home },
    );
  }
  const api = holder.url ? `, API ${holder.url}` : '';
  const since = holder.startedAt ? `, started ${new Date(holder.startedAt).toISOString()}` : '';
  return new FerryError(
    'FERRY_E_DAEMON_RUNNING',
    `another Ferry daemon already runs on ${home} (pid ${holder.pid}${api}${since}): one daemon per data directory. ` +
      `Stop it first (ferry down stops it with the router and the apps; kill -TERM ${holder.pid} stops the daemon only)`,
    { where: home, pid: holder.pid, ...(holder.url ? { url: holder.url } : {}) },
  );
}
